import type { SeriesSamples } from '../store/metrics-store.js';
import type { LabelMatcher } from '../store/matchers.js';
import type { Sample } from './values.js';

// Selector data for one query: every selector's series are read from the store once, for the
// whole time span the query needs, then each evaluation step picks its samples by binary
// search. Windows follow Prometheus 3: a range `[r]` at time t holds samples in (t-r, t]; an
// instant selector takes the newest sample in (t-lookback, t], unless a staleness marker came
// after it.

export interface SampleReader {
  read(matchers: readonly LabelMatcher[], minT: number, maxT: number): SeriesSamples[];
}

/** Index of the last element <= t, or -1. */
export function lastAtOrBefore(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

export function instantSamples(series: readonly SeriesSamples[], refT: number, lookbackMs: number): Sample[] {
  const out: Sample[] = [];
  for (const s of series) {
    const i = lastAtOrBefore(s.ts, refT);
    if (i < 0 || s.ts[i] <= refT - lookbackMs) continue;
    if (s.stale.length) {
      const j = lastAtOrBefore(s.stale, refT);
      if (j >= 0 && s.stale[j] > s.ts[i]) continue;
    }
    out.push({ labels: s.labels, value: s.vs[i] });
  }
  return out;
}

/** A window of one series: samples lo..hi-1 of ts/vs. */
export interface Window {
  series: SeriesSamples;
  lo: number;
  hi: number;
}

export function rangeWindows(series: readonly SeriesSamples[], refT: number, rangeMs: number): Window[] {
  const out: Window[] = [];
  for (const s of series) {
    const hi = lastAtOrBefore(s.ts, refT) + 1;
    const lo = lastAtOrBefore(s.ts, refT - rangeMs) + 1;
    if (hi > lo) out.push({ series: s, lo, hi });
  }
  return out;
}
