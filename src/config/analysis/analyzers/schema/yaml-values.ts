// Readers for YAML values, shared by every validation rule. Each reads defensively: a field of
// the wrong type is the structural check's business (src/config/schema.ts), so here it is
// simply treated as unset.

export type Obj = Record<string, any>;

/** An object value, or undefined for anything else (null, arrays, scalars). */
export function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** A list value; anything else is an empty list, as protobuf sees an unset repeated field. */
export function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A number as protobuf JSON reads it (numbers, or numeric strings); unset is 0. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

/** True when a message field is present (protobuf's non-nil pointer). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** The entries of a map field, in the order written. */
export function entries(v: unknown): Array<[string, any]> {
  return Object.entries(obj(v) ?? {});
}

/** A wrapper value (`google.protobuf.*Value`) written as a bare scalar in YAML. */
export function wrapped(v: unknown): number {
  const o = obj(v);
  return o ? num(o.value) : num(v);
}

export function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}
