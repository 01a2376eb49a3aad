import { labelsKey, setLabel, type Labels } from '../store/labels.js';
import type { Sample } from './values.js';

// histogram_quantile over classic (`le`-bucketed) histograms, as Prometheus computes it
// (promql/quantile.go, BucketQuantile): buckets of one series group (labels other than `le`
// and the name) sorted by bound, equal bounds merged, counts forced monotonic, then linear
// interpolation inside the bucket the rank falls in; the +Inf bucket answers with the highest
// finite bound.

interface Bucket {
  upperBound: number;
  count: number;
}

interface BucketOf {
  labels: Labels;
  key: string;
  upperBound: number | undefined;
}

/** Per input label set: its group (labels without `le` and the name) and bound, the same at every step. */
const bucketCache = new WeakMap<Labels, BucketOf>();

function bucketOf(input: Labels): BucketOf {
  let b = bucketCache.get(input);
  if (b) return b;
  const labels: Record<string, string> = {};
  for (const n of Object.keys(input)) if (n !== 'le' && n !== '__name__') setLabel(labels, n, input[n]);
  b = { labels, key: labelsKey(labels), upperBound: Object.hasOwn(input, 'le') ? parseBound(input.le) : undefined };
  bucketCache.set(input, b);
  return b;
}

export function histogramQuantile(q: number, samples: readonly Sample[]): Sample[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of samples) {
    const { labels, key, upperBound } = bucketOf(s.labels);
    if (upperBound === undefined) continue;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, buckets: [] }));
    g.buckets.push({ upperBound, count: s.value });
  }
  const out: Sample[] = [];
  for (const g of groups.values()) out.push({ labels: g.labels, value: bucketQuantile(q, g.buckets) });
  return out;
}

function parseBound(le: string): number | undefined {
  const lower = le.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  const v = Number(le);
  return le.trim() === '' || Number.isNaN(v) ? undefined : v;
}

export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1].upperBound !== Infinity) return NaN;
  const buckets = coalesce(sorted);
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && buckets[b].count < rank) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2].upperBound;
  if (b === 0 && buckets[0].upperBound <= 0) return buckets[0].upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b].upperBound;
  let count = buckets[b].count;
  if (b > 0) {
    bucketStart = buckets[b - 1].upperBound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function coalesce(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [{ ...buckets[0] }];
  for (const b of buckets.slice(1)) {
    const last = out[out.length - 1];
    if (b.upperBound === last.upperBound) last.count += b.count;
    else out.push({ ...b });
  }
  return out;
}

/** Prometheus's ensureMonotonicAndIgnoreSmallDeltas: tiny float noise is levelled, decreases removed. */
function ensureMonotonic(buckets: Bucket[]): void {
  let prev = buckets[0].count;
  for (let i = 1; i < buckets.length; i++) {
    const curr = buckets[i].count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, 1e-12) || curr < prev) {
      buckets[i].count = prev;
      continue;
    }
    prev = curr;
  }
}

const MIN_NORMAL = 2.2250738585072014e-308;

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}
