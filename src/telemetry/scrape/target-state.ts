import { parseSeriesLabels, scanExposition, type ScannedSample } from '../prometheus/exposition-parser.js';
import { setLabel } from '../store/labels.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { Series } from '../store/series.js';
import type { ScrapeTarget } from './targets.js';

// What the scraper keeps per target between scrapes, and how one scrape's text becomes samples.
// As in Prometheus: the series text of each line maps to its series (no label parsing for a line
// seen before); a scrape is all or nothing (a malformed exposition stores nothing and counts as
// down); a series that disappears from the exposition, or every series when the scrape fails or
// the target goes away, gets a staleness marker, so queries stop returning it at once instead of
// for 5 minutes; each scrape records `up`, `scrape_duration_seconds` and
// `scrape_samples_scraped` with the target's labels.

export interface ScrapeOutcome {
  ok: boolean;
  error?: string;
  samples: number;
  /** Samples dropped: new series refused by the store's cap, or out of order. */
  dropped: number;
}

export interface TargetHealth {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape?: number;
  lastScrapeDurationMs?: number;
  lastSamples: number;
}

export class TargetState {
  /** series text -> series, for the lines of the last successful scrape. */
  private cache = new Map<string, Series>();
  /** Series written by the last scrape and not yet marked stale. */
  private live = new Set<Series>();
  inFlight = false;
  health: TargetHealth;

  constructor(
    readonly target: ScrapeTarget,
    private readonly store: MetricsStore,
  ) {
    this.health = { labels: { ...target.labels }, scrapeUrl: target.url, health: 'unknown', lastError: '', lastSamples: 0 };
  }

  /** Stores one successful scrape's text taken at time t (ms). Throws if the text is malformed (nothing stored then). */
  ingest(text: string, t: number): ScrapeOutcome {
    const scanned: ScannedSample[] = [];
    scanExposition(text, { sample: (s) => scanned.push(s) });
    // First resolve every line's series (label parsing may still throw), then append.
    const nextCache = new Map<string, Series>();
    const resolved: Array<Series | undefined> = scanned.map((s) => {
      let series = nextCache.get(s.series) ?? this.cache.get(s.series);
      if (!series || series.removed) series = this.store.series(this.seriesLabels(s));
      if (series) nextCache.set(s.series, series);
      return series;
    });
    const nextLive = new Set<Series>();
    let dropped = 0;
    scanned.forEach((s, i) => {
      const series = resolved[i];
      if (!series || !this.store.append(series, s.timestampMs ?? t, s.value)) {
        dropped++;
        return;
      }
      // Series with their own timestamps are left out of staleness handling, as in Prometheus.
      if (s.timestampMs === undefined) nextLive.add(series);
    });
    for (const old of this.live) if (!nextLive.has(old)) this.store.markStale(old, t);
    this.cache = nextCache;
    this.live = nextLive;
    return { ok: true, samples: scanned.length, dropped };
  }

  /** A failed scrape, or the target went away: everything it exposed goes stale. */
  markAllStale(t: number): void {
    for (const s of this.live) this.store.markStale(s, t);
    this.live.clear();
  }

  /** Records up / scrape_duration_seconds / scrape_samples_scraped for one scrape. */
  recordScrape(t: number, outcome: ScrapeOutcome, durationMs: number): void {
    this.report('up', t, outcome.ok ? 1 : 0);
    this.report('scrape_duration_seconds', t, durationMs / 1000);
    this.report('scrape_samples_scraped', t, outcome.samples);
    this.health = {
      ...this.health,
      health: outcome.ok ? 'up' : 'down',
      lastError: outcome.error ?? '',
      lastScrape: t,
      lastScrapeDurationMs: durationMs,
      lastSamples: outcome.samples,
    };
  }

  /** Target removed: its report series go stale too. */
  retire(t: number): void {
    this.markAllStale(t);
    for (const name of REPORT_NAMES) {
      const s = this.store.series({ ...this.target.labels, __name__: name });
      if (s) this.store.markStale(s, t);
    }
  }

  private report(name: string, t: number, v: number): void {
    const s = this.store.series({ ...this.target.labels, __name__: name });
    if (s) this.store.append(s, t, v);
  }

  /** Metric labels win over target labels on conflict (honor_labels: true, as in Istio's addon). */
  private seriesLabels(s: ScannedSample): Record<string, string> {
    const labels: Record<string, string> = { ...this.target.labels };
    const own = parseSeriesLabels(s.series, s.nameEnd, s.line);
    for (const n of Object.keys(own)) setLabel(labels, n, own[n]);
    labels.__name__ = s.series.slice(0, s.nameEnd);
    return labels;
  }
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];
