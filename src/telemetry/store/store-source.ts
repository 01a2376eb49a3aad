import type { InstantQueryResult, MetricLabels, MetricsSource, RangeQueryResult } from '../metrics-source.js';
import { PromQLEngine, type EngineOptions } from '../promql/engine.js';
import { MetricsQueryError } from '../promql/errors.js';
import { parsePromQL } from '../promql/parse.js';
import type { LabelMatcher } from './matchers.js';
import type { MetricsStore } from './metrics-store.js';

// MetricsSource over the embedded store: PromQL (the subset) evaluated in process.

export class StoreMetricsSource implements MetricsSource {
  readonly engine: PromQLEngine;

  constructor(
    private readonly store: MetricsStore,
    private readonly now: () => number = Date.now,
    opts: EngineOptions = {},
  ) {
    this.engine = new PromQLEngine(store, opts);
  }

  async query(promql: string, timeMs?: number): Promise<InstantQueryResult> {
    return this.engine.instant(promql, timeMs ?? this.now());
  }

  async queryRange(promql: string, startMs: number, endMs: number, stepMs: number): Promise<RangeQueryResult> {
    return this.engine.range(promql, startMs, endMs, stepMs);
  }

  async series(selectors: string[], startMs?: number, endMs?: number): Promise<MetricLabels[]> {
    const end = endMs ?? this.now();
    const start = startMs ?? end - this.store.rawRetentionMs;
    const out = new Map<string, MetricLabels>();
    for (const sel of selectors) {
      for (const s of this.store.read(selectorMatchers(sel), start, end)) out.set(JSON.stringify(s.labels), { ...s.labels });
    }
    return [...out.values()];
  }

  async labelValues(label: string, selectors?: string[]): Promise<string[]> {
    if (!selectors?.length) return this.store.labelValues(label);
    const values = new Set<string>();
    for (const sel of selectors) for (const v of this.store.labelValues(label, selectorMatchers(sel))) values.add(v);
    return [...values].sort();
  }
}

/** The matchers of a series selector (`up{job="x"}`); anything else is refused. */
export function selectorMatchers(selector: string): LabelMatcher[] {
  const e = parsePromQL(selector);
  if (e.kind !== 'vector' || e.offsetMs !== 0) throw new MetricsQueryError('E_PROMQL_TYPE', `not a series selector: "${selector}"`);
  return e.matchers;
}
