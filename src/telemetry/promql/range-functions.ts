import type { Window } from './selector-data.js';

// Functions over a range vector window, with Prometheus's semantics (promql/functions.go):
// rate/increase/delta extrapolate towards the window's edges as Prometheus does, so the same
// query gives the same figure here and there.

export interface RangeContext {
  rangeStart: number; // ms, exclusive
  rangeEnd: number; // ms, inclusive
  rangeMs: number;
}

export type RangeFunction = (w: Window, ctx: RangeContext) => number | undefined;

function extrapolatedRate(w: Window, ctx: RangeContext, isCounter: boolean, isRate: boolean): number | undefined {
  const { ts, vs } = w.series;
  const n = w.hi - w.lo;
  if (n < 2) return undefined;
  const first = w.lo;
  const last = w.hi - 1;
  let result = vs[last] - vs[first];
  if (isCounter) {
    // A drop is a counter reset: the value before it was lost, add it back.
    for (let i = first + 1; i <= last; i++) if (vs[i] < vs[i - 1]) result += vs[i - 1];
  }
  let durationToStart = (ts[first] - ctx.rangeStart) / 1000;
  let durationToEnd = (ctx.rangeEnd - ts[last]) / 1000;
  const sampledInterval = (ts[last] - ts[first]) / 1000;
  const averageBetweenSamples = sampledInterval / (n - 1);
  // Extrapolate to an edge only if a sample is missing there by less than 110% of the usual spacing;
  // otherwise assume the series starts/ends half a spacing beyond its first/last sample.
  const threshold = averageBetweenSamples * 1.1;
  if (durationToStart >= threshold) durationToStart = averageBetweenSamples / 2;
  if (isCounter && result > 0 && vs[first] >= 0) {
    // A counter cannot go below zero: never extrapolate past the point where it would.
    const durationToZero = sampledInterval * (vs[first] / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = averageBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= ctx.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: Window, isRate: boolean): number | undefined {
  if (w.hi - w.lo < 2) return undefined;
  const { ts, vs } = w.series;
  const t0 = ts[w.hi - 2];
  const t1 = ts[w.hi - 1];
  const v0 = vs[w.hi - 2];
  const v1 = vs[w.hi - 1];
  const interval = t1 - t0;
  if (interval === 0) return undefined;
  // irate after a counter reset: the new value is the increase since the reset.
  const diff = isRate && v1 < v0 ? v1 : v1 - v0;
  return isRate ? diff / (interval / 1000) : diff;
}

function fold(w: Window, f: (acc: number, v: number) => number): number {
  const vs = w.series.vs;
  let acc = vs[w.lo];
  for (let i = w.lo + 1; i < w.hi; i++) acc = f(acc, vs[i]);
  return acc;
}

export const RANGE_FUNCTIONS: Record<string, RangeFunction> = {
  rate: (w, c) => extrapolatedRate(w, c, true, true),
  increase: (w, c) => extrapolatedRate(w, c, true, false),
  delta: (w, c) => extrapolatedRate(w, c, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  resets: (w) => {
    const vs = w.series.vs;
    let n = 0;
    for (let i = w.lo + 1; i < w.hi; i++) if (vs[i] < vs[i - 1]) n++;
    return n;
  },
  changes: (w) => {
    const vs = w.series.vs;
    let n = 0;
    for (let i = w.lo + 1; i < w.hi; i++) if (vs[i] !== vs[i - 1] && !(Number.isNaN(vs[i]) && Number.isNaN(vs[i - 1]))) n++;
    return n;
  },
  sum_over_time: (w) => fold(w, (a, v) => a + v),
  avg_over_time: (w) => fold(w, (a, v) => a + v) / (w.hi - w.lo),
  min_over_time: (w) => fold(w, (a, v) => (v < a || Number.isNaN(a) ? v : a)),
  max_over_time: (w) => fold(w, (a, v) => (v > a || Number.isNaN(a) ? v : a)),
  count_over_time: (w) => w.hi - w.lo,
  last_over_time: (w) => w.series.vs[w.hi - 1],
};
