import type { Labels } from './labels.js';
import { SampleTier } from './sample-tier.js';

// One time series: its labels, samples at scrape resolution (`raw`), and a coarser copy for
// older data (`down`): the last sample of each downsampling interval, with its own timestamp.
// That keeps the old part meaningful for every function: a counter downsampled this way is
// what Prometheus would have stored with a 1-minute scrape interval, so rate() and increase()
// stay correct across the seam (counter resets inside one interval are seen as Prometheus would
// see them at that interval). Staleness markers (series gone from a scrape, target down) are
// rare, so they are kept as a short sorted list of timestamps instead of a value per sample.

export class Series {
  readonly raw = new SampleTier();
  /** Chunks of 60 samples: an hour at 1-minute resolution, the granularity of its retention. */
  readonly down = new SampleTier(60);
  /** Sorted times at which the series was marked stale. */
  stale: number[] = [];
  /** The latest sample not yet moved to `down` (its interval is not over yet). */
  private pendingT = NaN;
  private pendingV = NaN;
  /** Set when the store dropped the series (evicted or expired): holders of a reference must look it up again. */
  removed = false;

  constructor(
    readonly id: number,
    readonly key: string,
    readonly labels: Labels,
  ) {}

  /** Time of the newest sample or staleness marker: what eviction of idle series looks at. */
  get lastActivity(): number {
    const s = this.stale.length ? this.stale[this.stale.length - 1] : -Infinity;
    return Math.max(this.raw.lastT, s);
  }

  /** Whether the newest event is a staleness marker (the series is not being scraped now). */
  get isStale(): boolean {
    return this.stale.length > 0 && this.stale[this.stale.length - 1] >= this.raw.lastT;
  }

  /** Appends a sample; false if it is not newer than the last one (out of order or duplicate). */
  append(t: number, v: number, downsampleMs: number): boolean {
    if (t <= this.raw.lastT) return false;
    if (!Number.isNaN(this.pendingT) && Math.floor(t / downsampleMs) !== Math.floor(this.pendingT / downsampleMs)) {
      this.down.append(this.pendingT, this.pendingV);
    }
    this.pendingT = t;
    this.pendingV = v;
    this.raw.append(t, v);
    return true;
  }

  markStale(t: number): void {
    if (this.isStale || t <= this.raw.lastT) return;
    this.stale.push(t);
  }

  /** Drops raw data older than `rawFrom`, downsampled data older than `downFrom`. */
  expire(rawFrom: number, downFrom: number): void {
    // A series idle for the whole raw retention: its last sample moves down before raw data goes.
    if (!Number.isNaN(this.pendingT) && this.pendingT < rawFrom) {
      this.down.append(this.pendingT, this.pendingV);
      this.pendingT = NaN;
    }
    this.raw.dropBefore(rawFrom);
    this.down.dropBefore(downFrom);
    let i = 0;
    while (i < this.stale.length && this.stale[i] < downFrom) i++;
    if (i > 0) this.stale.splice(0, i);
  }

  get empty(): boolean {
    return this.raw.empty && this.down.empty;
  }

  /**
   * The samples with minT <= t <= maxT: downsampled ones before the oldest raw sample, raw ones
   * after (one seamless series, coarser in its old part).
   */
  read(minT: number, maxT: number, outT: number[], outV: number[]): void {
    const rawStart = this.raw.firstT;
    if (minT < rawStart) this.down.read(minT, Math.min(maxT, rawStart - 1), outT, outV);
    if (maxT >= rawStart) this.raw.read(minT, maxT, outT, outV);
  }

  get bytes(): number {
    return this.raw.bytes + this.down.bytes + this.stale.length * 8 + SERIES_OVERHEAD + Object.keys(this.labels).length * 16;
  }
}

/** Approximate fixed cost of a series beyond its samples and label slots: object, tiers, index entries (label strings are interned, shared). */
export const SERIES_OVERHEAD = 400;
