import type { InstantQueryResult, RangeQueryResult, SamplePair } from '../metrics-source.js';
import { MetricsQueryError } from '../promql/errors.js';
import { parseDurationOrSeconds } from '../promql/duration.js';

// Prometheus HTTP API wire format: sample values as strings ("NaN", "+Inf"), times as float
// seconds; query parameters as Prometheus accepts them (Unix seconds or RFC 3339 times,
// durations or seconds for steps).

export type WirePair = [number, string];

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function parseWireValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

const wire = ([t, v]: SamplePair): WirePair => [t, formatValue(v)];
const fromWire = ([t, v]: WirePair): SamplePair => [t, parseWireValue(v)];

export function toWire(r: InstantQueryResult | RangeQueryResult): unknown {
  switch (r.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: wire(r.result) };
    case 'vector':
      return { resultType: 'vector', result: r.result.map((s) => ({ metric: s.metric, value: wire(s.value) })) };
    case 'matrix':
      return { resultType: 'matrix', result: r.result.map((s) => ({ metric: s.metric, values: s.values.map(wire) })) };
  }
}

/** Converts Prometheus's `data` of a query answer; throws on shapes the interface has no place for (string results). */
export function fromWireResult(data: any): InstantQueryResult {
  switch (data?.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: fromWire(data.result) };
    case 'vector':
      return { resultType: 'vector', result: (data.result as any[]).map((s) => ({ metric: s.metric ?? {}, value: fromWire(s.value) })) };
    case 'matrix':
      return { resultType: 'matrix', result: (data.result as any[]).map((s) => ({ metric: s.metric ?? {}, values: (s.values ?? []).map(fromWire) })) };
    default:
      throw new MetricsQueryError('E_PROMQL_UNSUPPORTED', `result type ${data?.resultType} is not supported`, `result:${data?.resultType}`);
  }
}

/** A time parameter: Unix seconds (float) or RFC 3339. */
export function parseTimeParam(value: string | null, name: string, fallbackMs: number): number {
  if (value === null || value === '') return fallbackMs;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.round(n * 1000);
  const d = Date.parse(value);
  if (Number.isFinite(d) && /^\d{4}-\d{2}-\d{2}T/.test(value)) return d;
  throw new MetricsQueryError('E_QUERY_PARAM', `invalid parameter "${name}": cannot parse "${value}" to a valid timestamp`);
}

export function parseStepParam(value: string | null): number {
  if (value === null || value === '') throw new MetricsQueryError('E_QUERY_PARAM', 'invalid parameter "step": missing');
  return parseDurationOrSeconds(value, 'parameter "step"');
}
