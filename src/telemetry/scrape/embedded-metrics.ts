import type { WorkloadInstance } from '../../api/snapshot.js';
import { systemClock, type Clock } from '../../proxy/clock.js';
import type { MetricsSource } from '../metrics-source.js';
import { MetricsStore, type StoreOptions } from '../store/metrics-store.js';
import { StoreMetricsSource } from '../store/store-source.js';
import { Scraper } from './scraper.js';
import { targetsForInstances, type TargetOptions } from './targets.js';

// The control plane's metrics: the embedded store, the scraper that fills it from every
// sidecar, and the MetricsSource that answers PromQL on it.

export interface EmbeddedMetricsOptions {
  /** false: no scraping (the store and the query API still exist). Default true. */
  enabled?: boolean;
  scrapeIntervalMs?: number;
  scrapeTimeoutMs?: number;
  store?: Omit<StoreOptions, 'now'>;
  targets?: TargetOptions;
  /** Instant selectors look back this far (Prometheus's --query.lookback-delta, 5m). */
  lookbackMs?: number;
}

export class EmbeddedMetrics {
  readonly store: MetricsStore;
  readonly source: MetricsSource;
  readonly scraper: Scraper;
  private readonly enabled: boolean;

  constructor(
    instances: () => readonly WorkloadInstance[],
    opts: EmbeddedMetricsOptions = {},
    readonly clock: Clock = systemClock,
  ) {
    this.enabled = opts.enabled ?? true;
    this.store = new MetricsStore({ ...opts.store, now: () => clock.now() });
    this.source = new StoreMetricsSource(this.store, () => clock.now(), { lookbackMs: opts.lookbackMs });
    this.scraper = new Scraper({
      clock,
      store: this.store,
      targets: () => targetsForInstances(instances(), opts.targets),
      intervalMs: opts.scrapeIntervalMs,
      timeoutMs: opts.scrapeTimeoutMs,
    });
  }

  start(): void {
    if (this.enabled) this.scraper.start();
  }

  async stop(): Promise<void> {
    await this.scraper.stop();
  }

  status(): Record<string, unknown> {
    const s = this.store.stats();
    return { scraping: this.enabled, ...this.scraper.status(), series: s.series, samples: s.samples, bytes: s.bytes, seriesEvicted: s.seriesEvicted, seriesRejected: s.seriesRejected };
  }
}

/** A clock with timers from one that may only tell the time (the control plane's option type). */
export function timerClock(clock: { now(): number } | undefined): Clock {
  if (clock && 'setTimeout' in clock && 'clearTimeout' in clock) return clock as Clock;
  return clock ? { ...systemClock, now: () => clock.now() } : systemClock;
}
