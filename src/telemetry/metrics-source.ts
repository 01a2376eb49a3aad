// What diagnosis, the dashboard, `meshmedic stat` and the graph API read metrics through: the
// shape of Prometheus's HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/series,
// /api/v1/label/<name>/values), so the embedded store (StoreMetricsSource) and a real
// Prometheus (PrometheusSource) answer the same PromQL text in the same form.
//
// Differences from the wire format, for convenience in TypeScript: values are numbers (NaN and
// ±Inf included) instead of strings; sample times are Unix seconds as in Prometheus's JSON.
// Times passed in are milliseconds. Errors are MetricsQueryError (stable codes).

export { MetricsQueryError, type MetricsErrorCode } from './promql/errors.js';

export type MetricLabels = Record<string, string>;

/** [Unix time in seconds, value]: Prometheus's sample pair. */
export type SamplePair = [number, number];

export interface InstantSample {
  metric: MetricLabels;
  value: SamplePair;
}

export interface RangeSeries {
  metric: MetricLabels;
  values: SamplePair[];
}

export type InstantQueryResult =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'scalar'; result: SamplePair }
  /** An instant query of a range selector (`metric[1m]`) returns the raw samples. */
  | { resultType: 'matrix'; result: RangeSeries[] };

export interface RangeQueryResult {
  resultType: 'matrix';
  result: RangeSeries[];
}

export interface MetricsSource {
  /** Evaluates PromQL at one time (default: now). */
  query(promql: string, timeMs?: number): Promise<InstantQueryResult>;
  /** Evaluates PromQL at start, start+step, ... <= end. */
  queryRange(promql: string, startMs: number, endMs: number, stepMs: number): Promise<RangeQueryResult>;
  /** Label sets of the series that match any of the selectors (`up`, `{__name__=~"istio_.*"}`) within the time range. */
  series(selectors: string[], startMs?: number, endMs?: number): Promise<MetricLabels[]>;
  /** Values of one label, optionally among the series matching the selectors. */
  labelValues(label: string, selectors?: string[]): Promise<string[]>;
}
