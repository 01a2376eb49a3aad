import { LabelIndex } from './label-index.js';
import { labelsKey, normalizeLabels, setLabel, type Labels } from './labels.js';
import { compileMatcher, matchesLabels, type LabelMatcher } from './matchers.js';
import { Series } from './series.js';

// The embedded time-series store of the control plane. Bounded in time (raw samples for
// `rawRetentionMs`, downsampled ones for `downsampleRetentionMs`) and in series count
// (`maxSeries`: the longest idle series makes room; a new series is refused, and counted,
// rather than evicting one that is still being scraped). Memory per sample is that of the
// compressed chunks (xor-chunk.ts); `stats()` reports it.

export interface StoreOptions {
  now?: () => number;
  /** Full-resolution data is kept this long (default 1 h). */
  rawRetentionMs?: number;
  /** Older data keeps one sample per interval (default 1 min)... */
  downsampleIntervalMs?: number;
  /** ...for this long (default 24 h). */
  downsampleRetentionMs?: number;
  /** Hard cap on series (default 20,000). */
  maxSeries?: number;
  /** A series updated more recently than this is never evicted to make room (default 30 s). */
  minIdleForEvictionMs?: number;
}

export interface StoreStats {
  series: number;
  samples: number;
  rawSamples: number;
  downsampledSamples: number;
  bytes: number;
  bytesPerSample: number;
  seriesCreated: number;
  seriesEvicted: number;
  seriesRejected: number;
  seriesExpired: number;
  outOfOrderSamples: number;
  maxSeries: number;
  rawRetentionMs: number;
  downsampleIntervalMs: number;
  downsampleRetentionMs: number;
}

/** Samples of one series between two times, as the query engine reads them. */
export interface SeriesSamples {
  labels: Labels;
  ts: number[];
  vs: number[];
  /** Staleness markers in the range (sorted). */
  stale: number[];
}

export class MetricsStore {
  readonly rawRetentionMs: number;
  readonly downsampleIntervalMs: number;
  readonly downsampleRetentionMs: number;
  readonly maxSeries: number;
  private readonly minIdleMs: number;
  private readonly now: () => number;
  private readonly byKey = new Map<string, Series>();
  private readonly index = new LabelIndex();
  private readonly strings = new Map<string, string>();
  private internedAfterRebuild = 0;
  private nextId = 1;
  private counters = { created: 0, evicted: 0, rejected: 0, expired: 0, outOfOrder: 0 };

  constructor(opts: StoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.rawRetentionMs = opts.rawRetentionMs ?? 3_600_000;
    this.downsampleIntervalMs = opts.downsampleIntervalMs ?? 60_000;
    this.downsampleRetentionMs = Math.max(opts.downsampleRetentionMs ?? 86_400_000, this.rawRetentionMs);
    this.maxSeries = opts.maxSeries ?? 20_000;
    this.minIdleMs = opts.minIdleForEvictionMs ?? 30_000;
  }

  get seriesCount(): number {
    return this.byKey.size;
  }

  /** The series for these labels, created if new; undefined when the cap is reached and nothing is idle. */
  series(labels: Record<string, string>): Series | undefined {
    const normal = normalizeLabels(labels);
    const key = labelsKey(normal);
    const found = this.byKey.get(key);
    if (found) return found;
    if (this.byKey.size >= this.maxSeries && !this.makeRoom()) {
      this.counters.rejected++;
      return undefined;
    }
    const interned: Record<string, string> = {};
    for (const n of Object.keys(normal)) setLabel(interned, this.intern(n), this.intern(normal[n]));
    const s = new Series(this.nextId++, key, interned);
    this.byKey.set(key, s);
    this.index.add(s);
    this.counters.created++;
    return s;
  }

  /** Appends one sample (timestamps are whole milliseconds); false if refused (cap or out of order). */
  append(series: Series, t: number, v: number): boolean {
    if (series.removed) return false;
    if (!series.append(Math.round(t), v, this.downsampleIntervalMs)) {
      this.counters.outOfOrder++;
      return false;
    }
    return true;
  }

  /** Convenience for tests and tools: find or create the series and append. */
  add(labels: Record<string, string>, t: number, v: number): boolean {
    const s = this.series(labels);
    return s ? this.append(s, t, v) : false;
  }

  markStale(series: Series, t: number): void {
    if (!series.removed) series.markStale(Math.round(t));
  }

  /** Series whose labels satisfy every matcher (at least one must not match the empty string). */
  select(matchers: readonly LabelMatcher[]): Series[] {
    const compiled = matchers.map(compileMatcher);
    const candidates = this.index.candidates(compiled) ?? this.byKey.values();
    const out: Series[] = [];
    for (const s of candidates) if (matchesLabels(compiled, s.labels)) out.push(s);
    return out;
  }

  /** Samples of the selected series between minT and maxT (inclusive); series with nothing there are left out. */
  read(matchers: readonly LabelMatcher[], minT: number, maxT: number): SeriesSamples[] {
    const out: SeriesSamples[] = [];
    for (const s of this.select(matchers)) {
      const ts: number[] = [];
      const vs: number[] = [];
      s.read(minT, maxT, ts, vs);
      const stale = s.stale.filter((t) => t >= minT && t <= maxT);
      if (ts.length === 0 && stale.length === 0) continue;
      out.push({ labels: s.labels, ts, vs, stale });
    }
    return out;
  }

  labelNames(matchers?: readonly LabelMatcher[]): string[] {
    if (!matchers?.length) return this.index.labelNames();
    const names = new Set<string>();
    for (const s of this.select(matchers)) for (const n of Object.keys(s.labels)) names.add(n);
    return [...names].sort();
  }

  labelValues(name: string, matchers?: readonly LabelMatcher[]): string[] {
    if (!matchers?.length) return this.index.labelValues(name);
    const values = new Set<string>();
    for (const s of this.select(matchers)) if (Object.hasOwn(s.labels, name)) values.add(s.labels[name]);
    return [...values].sort();
  }

  /** Drops data past retention and series left with nothing. Call now and then (the scraper does, every few seconds). */
  maintain(): void {
    const now = this.now();
    const rawFrom = now - this.rawRetentionMs;
    const downFrom = now - this.downsampleRetentionMs;
    for (const s of this.byKey.values()) {
      s.expire(rawFrom, downFrom);
      if (s.empty) {
        this.removeSeries(s);
        this.counters.expired++;
      }
    }
    if (this.strings.size > 2 * this.internedAfterRebuild + 10_000) this.rebuildInterned();
  }

  stats(): StoreStats {
    let raw = 0;
    let down = 0;
    let bytes = 0;
    for (const s of this.byKey.values()) {
      raw += s.raw.sampleCount;
      down += s.down.sampleCount;
      bytes += s.bytes;
    }
    const samples = raw + down;
    return {
      series: this.byKey.size,
      samples,
      rawSamples: raw,
      downsampledSamples: down,
      bytes,
      bytesPerSample: samples ? bytes / samples : 0,
      seriesCreated: this.counters.created,
      seriesEvicted: this.counters.evicted,
      seriesRejected: this.counters.rejected,
      seriesExpired: this.counters.expired,
      outOfOrderSamples: this.counters.outOfOrder,
      maxSeries: this.maxSeries,
      rawRetentionMs: this.rawRetentionMs,
      downsampleIntervalMs: this.downsampleIntervalMs,
      downsampleRetentionMs: this.downsampleRetentionMs,
    };
  }

  /**
   * Evicts the longest idle series (a batch of 1% of the cap, so a burst of new series does not
   * scan the whole store for each). Only series idle for at least minIdleMs go.
   */
  private makeRoom(): boolean {
    const cutoff = this.now() - this.minIdleMs;
    const idle = [...this.byKey.values()].filter((s) => s.lastActivity < cutoff).sort((a, b) => a.lastActivity - b.lastActivity);
    const batch = idle.slice(0, Math.max(1, Math.ceil(this.maxSeries / 100)));
    for (const s of batch) this.removeSeries(s);
    this.counters.evicted += batch.length;
    return batch.length > 0;
  }

  private removeSeries(s: Series): void {
    this.byKey.delete(s.key);
    this.index.remove(s);
    s.removed = true;
  }

  private intern(s: string): string {
    const found = this.strings.get(s);
    if (found !== undefined) return found;
    if (this.strings.size < INTERN_MAX) this.strings.set(s, s);
    return s;
  }

  /** Forgets strings only removed series used (the table would otherwise keep them alive). */
  private rebuildInterned(): void {
    this.strings.clear();
    for (const s of this.byKey.values()) {
      for (const [n, v] of Object.entries(s.labels)) {
        this.strings.set(n, n);
        this.strings.set(v, v);
      }
    }
    this.internedAfterRebuild = this.strings.size;
  }
}

const INTERN_MAX = 200_000;

