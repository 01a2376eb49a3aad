// Istio's histograms as Envoy exports them: fixed bucket bounds (Envoy's defaults, which Istio
// keeps for every standard histogram: duration in ms and sizes in bytes alike), a sum and a
// count. Counts are kept per bucket (not cumulative) in one typed array, so an observation is a
// short scan and two additions, and nothing is allocated after construction.

/** Envoy's default histogram buckets (HistogramSettingsImpl::defaultBuckets), used by Istio's standard metrics. */
export const ISTIO_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

export class Histogram {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot holds those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = ISTIO_BUCKETS) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    // Most observations land in the first few buckets: a linear scan beats a binary search here.
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative count of observations <= bounds[i] (i = bounds.length: all of them), as Prometheus's `le` buckets. */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) out[i] = acc += this.counts[i];
    return out;
  }
}
