import type { InstantQueryResult, MetricLabels } from '../../telemetry/metrics-source.js';
import type { Reporter } from './snapshot.js';

// One typed row per series of a signal query's answer. Istio writes `unknown` for a peer it
// cannot name; the store drops empty labels, so a missing label reads as ''.

export const UNKNOWN = 'unknown';

export interface SignalRow {
  reporter: Reporter;
  sourceWorkload: string;
  sourceNamespace: string;
  sourceCanonical: string;
  /** destination_service: an FQDN, an external host, or the Host of a request that found no route. */
  host: string;
  serviceName: string;
  serviceNamespace: string;
  destinationWorkload: string;
  destinationNamespace: string;
  destinationCanonical: string;
  destinationVersion: string;
  protocol: string;
  /** The reporting sidecar's instance and namespace (scrape labels). */
  pod: string;
  podNamespace: string;
  code: string;
  grpcStatus: string;
  flags: string;
  le: string;
  value: number;
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
  const l = (name: string) => m[name] ?? '';
  return {
    reporter: l('reporter') === 'destination' ? 'destination' : 'source',
    sourceWorkload: l('source_workload') || UNKNOWN,
    sourceNamespace: l('source_workload_namespace') || UNKNOWN,
    sourceCanonical: l('source_canonical_service'),
    host: l('destination_service') || UNKNOWN,
    serviceName: l('destination_service_name'),
    serviceNamespace: l('destination_service_namespace') || UNKNOWN,
    destinationWorkload: l('destination_workload') || UNKNOWN,
    destinationNamespace: l('destination_workload_namespace') || UNKNOWN,
    destinationCanonical: l('destination_canonical_service'),
    destinationVersion: l('destination_version'),
    protocol: l('request_protocol') || 'http',
    pod: l('pod'),
    podNamespace: l('namespace'),
    code: l('response_code') || '0',
    grpcStatus: l('grpc_response_status'),
    flags: l('response_flags') || '-',
    le: l('le'),
    value,
  };
}

/** `reviews.bookinfo.svc.cluster.local` -> {name: reviews, namespace: bookinfo}; anything else -> undefined. */
export function parseServiceHost(host: string): { name: string; namespace: string } | undefined {
  const m = /^([^.]+)\.([^.]+)\.svc(\..+)?$/.exec(host);
  return m ? { name: m[1], namespace: m[2] } : undefined;
}
