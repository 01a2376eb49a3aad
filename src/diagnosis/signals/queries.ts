// The PromQL behind a SignalSnapshot: Istio's standard metrics summed by the labels that name an
// edge, the reporter and the reporting pod, over one window. Only the subset every Prometheus
// and the embedded store evaluate (rate, sum by), so the same text runs on a real Prometheus
// scraping Istio's sidecars on Kubernetes (the pod and namespace labels are those its
// kubernetes-pods job adds).

const EDGE = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_canonical_service',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_workload',
  'destination_workload_namespace',
  'destination_canonical_service',
  'destination_version',
  'request_protocol',
  'pod',
  'namespace',
];

export type SignalQuery = 'requests' | 'buckets' | 'durationSum' | 'tcpOpened';

const TEXT: Record<SignalQuery, { metric: string; extra: string[] }> = {
  requests: { metric: 'istio_requests_total', extra: ['response_code', 'grpc_response_status', 'response_flags'] },
  buckets: { metric: 'istio_request_duration_milliseconds_bucket', extra: ['le'] },
  durationSum: { metric: 'istio_request_duration_milliseconds_sum', extra: [] },
  tcpOpened: { metric: 'istio_tcp_connections_opened_total', extra: ['response_flags'] },
};

export const SIGNAL_QUERIES: readonly SignalQuery[] = ['requests', 'buckets', 'durationSum', 'tcpOpened'];

/** A window as a PromQL range: whole seconds when it is, else milliseconds. */
export function promRange(windowMs: number): string {
  const ms = Math.max(1, Math.round(windowMs));
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function signalQuery(q: SignalQuery, windowMs: number): string {
  const t = TEXT[q];
  return `sum by (${[...EDGE, ...t.extra].join(', ')}) (rate(${t.metric}[${promRange(windowMs)}]))`;
}

/**
 * Counters born inside the window, with their value: rate() needs two samples of a series, so
 * a new outcome (the first 500s of a new version, a burst of UF from an instance that then
 * left) that appears in one scrape and never moves again is invisible to it. A sidecar creates
 * a series at its first request, so a series absent one window ago counted from zero: its value
 * is its increase. (Only when the store has history from before the window: right after the
 * control plane started, every series looks new.)
 */
export function birthsQuery(q: 'requests' | 'durationSum', windowMs: number): string {
  const t = TEXT[q];
  const range = promRange(windowMs);
  return `sum by (${[...EDGE, ...t.extra].join(', ')}) (${t.metric} unless (${t.metric} offset ${range}))`;
}

/** Whether any target was scraped a window ago (the store has history to tell births from). */
export function historyQuery(windowMs: number): string {
  return `count(up offset ${promRange(windowMs)})`;
}

/** Whether each sidecar answered its last scrape. */
export const UP_QUERY = 'up';

/** Evidence windows in whole seconds: a person reruns the query, the last millisecond does not matter. */
function evidenceRange(windowMs: number): string {
  return `${Math.max(1, Math.round(windowMs / 1000))}s`;
}

/** The query a person can run for one figure of the evidence: a service's error ratio as its sidecars reported it. */
export function errorRatioQuery(host: string, reporter: 'source' | 'destination', windowMs: number, extra = ''): string {
  const sel = `reporter="${reporter}",destination_service="${host}"${extra ? `,${extra}` : ''}`;
  const range = evidenceRange(windowMs);
  return `sum(rate(istio_requests_total{${sel},response_code=~"5..|0"}[${range}])) / sum(rate(istio_requests_total{${sel}}[${range}]))`;
}

export function meanLatencyQuery(host: string, reporter: 'source' | 'destination', windowMs: number, extra = ''): string {
  const sel = `reporter="${reporter}",destination_service="${host}"${extra ? `,${extra}` : ''}`;
  const range = evidenceRange(windowMs);
  return `sum(rate(istio_request_duration_milliseconds_sum{${sel}}[${range}])) / sum(rate(istio_request_duration_milliseconds_count{${sel}}[${range}]))`;
}
