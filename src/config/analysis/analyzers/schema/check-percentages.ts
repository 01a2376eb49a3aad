import type { FieldPath } from '../../../../api/resource.js';
import type { Findings } from './findings.js';
import { isSet, num, obj } from './yaml-values.js';

/** Percent values that are whole numbers (0..100). */
export function checkPercent(f: Findings, path: FieldPath, v: unknown): void {
  if (!isSet(v)) return;
  const n = num(v);
  if (n < 0 || n > 100) f.error(path, `percentage ${n} is not in the range 0..100`);
}

/** A fractional `{value: N}` percentage: 0, or 0.0001..100. */
export function checkFractionalPercent(f: Findings, path: FieldPath, v: unknown): void {
  const p = obj(v);
  if (!p) return;
  const n = num(p.value);
  if (n < 0 || n > 100 || (n > 0 && n < 0.0001)) f.error(path, `percentage ${n} must be 0 or between 0.0001 and 100`);
}
