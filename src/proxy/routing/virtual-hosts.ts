// Picks the virtual host for an authority as Envoy does: an exact domain first, then the
// longest suffix wildcard (`*.example.com`, `*-bar.example.com`), then the longest prefix
// wildcard (`foo.*`), then `*`. A wildcard never matches the empty string.

export class VirtualHostSelector<T> {
  private readonly exact = new Map<string, T>();
  private readonly suffixes: Array<{ suffix: string; value: T }> = [];
  private readonly prefixes: Array<{ prefix: string; value: T }> = [];
  private fallback: T | undefined;

  add(domain: string, value: T): void {
    const d = domain.toLowerCase();
    if (d === '*') this.fallback = value;
    else if (d.startsWith('*')) this.suffixes.push({ suffix: d.slice(1), value });
    else if (d.endsWith('*')) this.prefixes.push({ prefix: d.slice(0, -1), value });
    else this.exact.set(d, value);
  }

  /** Call once after the last `add`: longest wildcards first. */
  seal(): this {
    this.suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** `authority` must be lower case. */
  select(authority: string): T | undefined {
    const hit = this.exact.get(authority);
    if (hit !== undefined) return hit;
    for (const s of this.suffixes) if (authority.length > s.suffix.length && authority.endsWith(s.suffix)) return s.value;
    for (const p of this.prefixes) if (authority.length > p.prefix.length && authority.startsWith(p.prefix)) return p.value;
    return this.fallback;
  }
}

/** Envoy accepts `*` alone, or one `*` at the start or the end of a domain. */
export function domainError(domain: string): string | undefined {
  if (domain === '') return 'domain is empty';
  const stars = domain.split('*').length - 1;
  if (stars === 0 || domain === '*') return undefined;
  if (stars > 1 || !(domain.startsWith('*') || domain.endsWith('*'))) return `domain "${domain}": a wildcard may only be the first or last character`;
  return undefined;
}
