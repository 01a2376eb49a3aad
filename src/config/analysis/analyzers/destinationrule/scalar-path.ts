import type { FieldPath, Resource } from '../../../../api/resource.js';

// Istio gives a message a line only when the field path is in the resource's field map, and
// that map holds scalar leaves alone (not mappings, lists or absent fields). Passing a path
// anyway would make our lineOf fall back to an ancestor's line, which changes how messages
// de-duplicate; so analyzers that mirror Istio's `ErrorLine` pass the path through here.

/** `path` when it ends at a scalar value of the resource (null included), else undefined. */
export function scalarPath(r: Resource, path: FieldPath): FieldPath | undefined {
  let cur: unknown = r.raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  if (cur === undefined) return undefined;
  return cur === null || typeof cur !== 'object' ? path : undefined;
}
