import type { ValueType } from './ast.js';

// The functions of the subset and their signatures (Prometheus's), checked at parse time.

export interface FunctionSignature {
  args: ValueType[];
  /** Arguments that may be left out at the end (round's to_nearest). */
  optional?: number;
  returns: ValueType;
  /** Whether the result keeps the metric name (only a few functions do). */
  keepsName?: boolean;
}

const rangeFn: FunctionSignature = { args: ['matrix'], returns: 'vector' };
const mathFn: FunctionSignature = { args: ['vector'], returns: 'vector' };

export const FUNCTIONS: Record<string, FunctionSignature> = {
  rate: rangeFn,
  irate: rangeFn,
  increase: rangeFn,
  delta: rangeFn,
  idelta: rangeFn,
  resets: rangeFn,
  changes: rangeFn,
  avg_over_time: rangeFn,
  sum_over_time: rangeFn,
  min_over_time: rangeFn,
  max_over_time: rangeFn,
  count_over_time: rangeFn,
  last_over_time: { args: ['matrix'], returns: 'vector', keepsName: true },
  abs: mathFn,
  ceil: mathFn,
  floor: mathFn,
  sqrt: mathFn,
  exp: mathFn,
  ln: mathFn,
  log2: mathFn,
  log10: mathFn,
  round: { args: ['vector', 'scalar'], optional: 1, returns: 'vector' },
  clamp: { args: ['vector', 'scalar', 'scalar'], returns: 'vector' },
  clamp_min: { args: ['vector', 'scalar'], returns: 'vector' },
  clamp_max: { args: ['vector', 'scalar'], returns: 'vector' },
  histogram_quantile: { args: ['scalar', 'vector'], returns: 'vector' },
  scalar: { args: ['vector'], returns: 'scalar' },
  vector: { args: ['scalar'], returns: 'vector' },
  time: { args: [], returns: 'scalar' },
  sort: { args: ['vector'], returns: 'vector', keepsName: true },
  sort_desc: { args: ['vector'], returns: 'vector', keepsName: true },
};
