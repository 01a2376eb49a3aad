// What translation could not honour: fields meshmedic does not implement yet, conflicts it had
// to settle. Invariant 1 of DESIGN.md: a field that is not implemented is reported, never
// silently ignored. Notes surface in the control plane's status API.

export class Notes {
  private readonly items = new Set<string>();

  /** `origin` is `Kind ns/name` (or another subject); `text` says what happened and what was done instead. */
  add(origin: string, text: string): void {
    this.items.add(`${origin}: ${text}`);
  }

  list(): string[] {
    return [...this.items].sort();
  }
}
