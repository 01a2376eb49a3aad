import { Agent, request } from 'undici';
import type { InstantQueryResult, MetricLabels, MetricsSource, RangeQueryResult } from '../metrics-source.js';
import { MetricsQueryError, type MetricsErrorCode } from '../promql/errors.js';
import { parsePromQL } from '../promql/parse.js';
import { fromWireResult } from './api-format.js';

// MetricsSource over a real Prometheus's HTTP API (or anything that speaks it, the control
// plane's own /api/v1/query included). Queries go as form-encoded POSTs, as Grafana sends them
// (no URL length limit). By default each query is first checked against meshmedic's PromQL
// subset, so code written against this source also runs on the embedded store.

export interface PrometheusSourceOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix is kept). */
  url: string;
  timeoutMs?: number;
  /** Refuse queries outside the subset the embedded store evaluates (default true). */
  checkSubset?: boolean;
  headers?: Record<string, string>;
}

const CODE_BY_ERROR_TYPE: Record<string, MetricsErrorCode> = { bad_data: 'E_PROMQL_SYNTAX', execution: 'E_PROMQL_EXEC', timeout: 'E_PROMQL_EXEC', canceled: 'E_PROMQL_EXEC', unavailable: 'E_METRICS_UNAVAILABLE' };

export class PrometheusSource implements MetricsSource {
  private readonly base: string;
  private readonly agent = new Agent({ keepAliveTimeout: 10_000 });
  private readonly timeoutMs: number;
  private readonly checkSubset: boolean;

  constructor(private readonly opts: PrometheusSourceOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.checkSubset = opts.checkSubset ?? true;
  }

  async query(promql: string, timeMs?: number): Promise<InstantQueryResult> {
    this.check(promql);
    const form: Record<string, string> = { query: promql };
    if (timeMs !== undefined) form.time = String(timeMs / 1000);
    return fromWireResult(await this.call('/api/v1/query', form));
  }

  async queryRange(promql: string, startMs: number, endMs: number, stepMs: number): Promise<RangeQueryResult> {
    this.check(promql);
    const data = await this.call('/api/v1/query_range', { query: promql, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepMs / 1000) });
    const r = fromWireResult(data);
    if (r.resultType !== 'matrix') throw new MetricsQueryError('E_PROMQL_EXEC', `range query answered with ${r.resultType}`);
    return r;
  }

  async series(selectors: string[], startMs?: number, endMs?: number): Promise<MetricLabels[]> {
    const form = new URLSearchParams();
    for (const s of selectors) form.append('match[]', s);
    if (startMs !== undefined) form.set('start', String(startMs / 1000));
    if (endMs !== undefined) form.set('end', String(endMs / 1000));
    return (await this.call('/api/v1/series', form)) as MetricLabels[];
  }

  async labelValues(label: string, selectors: string[] = []): Promise<string[]> {
    const q = new URLSearchParams();
    for (const s of selectors) q.append('match[]', s);
    const qs = q.toString();
    return (await this.call(`/api/v1/label/${encodeURIComponent(label)}/values${qs ? `?${qs}` : ''}`)) as string[];
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private check(promql: string): void {
    if (this.checkSubset) parsePromQL(promql);
  }

  /** POSTs a form (GET without one) and returns `data`, or throws MetricsQueryError. */
  private async call(path: string, form?: Record<string, string> | URLSearchParams): Promise<unknown> {
    let res;
    try {
      res = await request(this.base + path, {
        method: form ? 'POST' : 'GET',
        dispatcher: this.agent,
        headers: { ...this.opts.headers, ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
        body: form ? new URLSearchParams(form).toString() : undefined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (e) {
      throw new MetricsQueryError('E_METRICS_UNAVAILABLE', `cannot reach Prometheus at ${this.base}: ${(e as Error).message}`);
    }
    const text = await res.body.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      throw new MetricsQueryError('E_METRICS_UNAVAILABLE', `Prometheus at ${this.base} answered HTTP ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (body?.status === 'success') return body.data;
    // Our own control plane sends a stable code; a real Prometheus only its error type.
    const code: MetricsErrorCode = body?.errorCode ?? CODE_BY_ERROR_TYPE[body?.errorType] ?? 'E_METRICS_UNAVAILABLE';
    throw new MetricsQueryError(code, body?.error ?? `HTTP ${res.statusCode}`, body?.feature);
  }
}
