// The PromQL the graph is built from. Only the subset the embedded store evaluates (and any
// Prometheus does): rate() of Istio's counters and histogram buckets, summed by the labels that
// name an edge, over a window. Both reporters are fetched; traffic.ts applies Kiali's rule for
// which one counts (source reports for callers with a sidecar, destination reports for callers
// without one) and reads mTLS from destination reports, where Istio records it.

/** Labels that name both ends of an edge (and the reporter), Istio's standard ones. */
const EDGE_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_app',
  'source_version',
  'source_canonical_service',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_workload',
  'destination_workload_namespace',
  'destination_app',
  'destination_version',
  'destination_canonical_service',
];

/** The reporting instance: labels the scraper (or Istio's Prometheus addon) adds to every series of a pod. */
export const INSTANCE_LABELS = ['pod', 'namespace'];

export type QueryKind = 'requests' | 'buckets' | 'tcpSent' | 'tcpReceived' | 'tcpOpened';

const METRIC: Record<QueryKind, string> = {
  requests: 'istio_requests_total',
  buckets: 'istio_request_duration_milliseconds_bucket',
  tcpSent: 'istio_tcp_sent_bytes_total',
  tcpReceived: 'istio_tcp_received_bytes_total',
  tcpOpened: 'istio_tcp_connections_opened_total',
};

const EXTRA_LABELS: Record<QueryKind, string[]> = {
  requests: ['request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy'],
  buckets: ['request_protocol', 'le'],
  tcpSent: ['response_flags', 'connection_security_policy'],
  tcpReceived: ['response_flags', 'connection_security_policy'],
  tcpOpened: ['response_flags', 'connection_security_policy'],
};

/** A window as a PromQL range: whole seconds when it is, else milliseconds. */
export function promRange(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A PromQL string literal (double-quoted, Go escapes). */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The series of a namespace's traffic: whatever its workloads send and whatever its services
 * receive. Four selectors joined by `or` (a selector cannot OR matchers): the caller's
 * namespace, the service's namespace as reported, the answering workload's namespace, and the
 * namespace inside the service's FQDN, because a source sidecar that found no endpoint (UH, NR)
 * reports destination_service_namespace="unknown" and such failures must not drop out.
 */
export function namespaceSelectors(metric: string, namespace: string | null, reporterMatchers: string[] = ['']): string[] {
  const out: string[] = [];
  for (const reporter of reporterMatchers) {
    const sel = (m: string) => `${metric}{${[reporter, m].filter(Boolean).join(',')}}`;
    if (namespace === null) {
      out.push(reporter ? sel('') : metric);
      continue;
    }
    const ns = quote(namespace);
    out.push(
      sel(`source_workload_namespace=${ns}`),
      sel(`destination_service_namespace=${ns}`),
      sel(`destination_workload_namespace=${ns}`),
      sel(`destination_service=~${quote(`[^.]+\\.${escapeRegex(namespace)}\\.svc(\\..+)?`)}`),
    );
  }
  return out;
}

/**
 * Kiali's rule as matchers (traffic-rows.ts countsAsTraffic): source reports, and destination
 * reports of callers outside the mesh. Latency buckets are most of the series, and only these
 * count for them except at the instance level, so the other half is not read at all.
 */
const COUNTED_REPORTS = ['reporter="source"', 'reporter="destination",source_workload="unknown"'];

export interface QuerySpec {
  kind: QueryKind;
  windowMs: number;
  namespace: string | null;
  /** Group by the reporting instance too (the instance graph, which reads every destination report). */
  perInstance: boolean;
}

export function groupLabels(kind: QueryKind, perInstance: boolean): string[] {
  return [...EDGE_LABELS, ...EXTRA_LABELS[kind], ...(perInstance ? INSTANCE_LABELS : [])];
}

export function trafficQuery(spec: QuerySpec): string {
  const range = promRange(spec.windowMs);
  const onlyCounted = spec.kind === 'buckets' && !spec.perInstance;
  const rates = namespaceSelectors(METRIC[spec.kind], spec.namespace, onlyCounted ? COUNTED_REPORTS : undefined).map((s) => `rate(${s}[${range}])`);
  return `sum by (${groupLabels(spec.kind, spec.perInstance).join(', ')}) (${rates.join(' or ')})`;
}

/**
 * Every (service, workload) a destination sidecar has reported on and still exports, busy or
 * idle: the instant selector sees the counters of live sidecars (and not those of instances
 * gone, which get staleness markers). Used to list idle services and workloads.
 */
export function knownDestinationsQuery(namespace: string | null): string {
  const by = 'destination_service, destination_service_name, destination_service_namespace, destination_workload, destination_workload_namespace, destination_app, destination_version';
  const sel = (metric: string) => (namespace === null ? `${metric}{reporter="destination"}` : `${metric}{reporter="destination",destination_workload_namespace=${quote(namespace)}}`);
  return `count by (${by}) (${sel('istio_requests_total')} or ${sel('istio_tcp_connections_opened_total')})`;
}
