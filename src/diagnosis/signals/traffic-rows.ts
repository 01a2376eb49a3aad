import type { InstantQueryResult, MetricLabels } from '../../telemetry/metrics-source.js';
import { rowOf as trafficRowOf, UNKNOWN, type TrafficRow } from '../../telemetry/graph/traffic-rows.js';

// One typed row per series of a signal query's answer.

export { UNKNOWN };

/**
 * The telemetry graph's row (one parse of Istio's labels for both) under the two names the
 * localization reads: `host` for destination_service, `code` with `0` for a reply that never
 * got a status (Istio's value for a reset).
 */
export interface SignalRow extends TrafficRow {
  host: string;
  code: string;
}

export function rowsOf(r: InstantQueryResult): SignalRow[] {
  if (r.resultType !== 'vector') return [];
  const out: SignalRow[] = [];
  for (const s of r.result) {
    const v = s.value[1];
    if (!(v > 0) && s.metric.le === undefined) continue; // no traffic; buckets keep their zeros (quantiles need every bound)
    if (!(v >= 0)) continue;
    out.push(rowOf(s.metric, v));
  }
  return out;
}

export function rowOf(m: MetricLabels, value: number): SignalRow {
  const row = trafficRowOf(m, value) as SignalRow;
  row.host = row.service;
  row.code = row.responseCode || '0';
  return row;
}

/** `reviews.bookinfo.svc.cluster.local` -> {name: reviews, namespace: bookinfo}; anything else -> undefined. */
export function parseServiceHost(host: string): { name: string; namespace: string } | undefined {
  const m = /^([^.]+)\.([^.]+)\.svc(\..+)?$/.exec(host);
  return m ? { name: m[1], namespace: m[2] } : undefined;
}
