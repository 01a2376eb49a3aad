import type { InstantQueryResult, MetricLabels, MetricsSource } from '../metrics-source.js';
import { trafficQuery, type QueryKind } from './queries.js';
import type { Reporter } from './types.js';

// One row per (edge labels, outcome) of a query answer, typed. Istio writes `unknown` for a
// peer it cannot name; the store drops empty labels, so a missing label reads as ''.

export const UNKNOWN = 'unknown';

export interface TrafficRow {
  reporter: Reporter;
  sourceWorkload: string;
  sourceNamespace: string;
  sourceApp: string;
  sourceVersion: string;
  sourceCanonical: string;
  /** destination_service: the FQDN (or the Host of a request that found no cluster). */
  service: string;
  serviceName: string;
  serviceNamespace: string;
  destinationWorkload: string;
  destinationNamespace: string;
  destinationApp: string;
  destinationVersion: string;
  destinationCanonical: string;
  protocol: string;
  responseCode: string;
  grpcStatus: string;
  flags: string;
  securityPolicy: string;
  /** The reporting instance and its namespace (scrape labels), '' when the source has none. */
  pod: string;
  podNamespace: string;
  le: string;
  /** Per second. */
  value: number;
}

export interface TrafficRows {
  requests: TrafficRow[];
  buckets: TrafficRow[];
  tcpSent: TrafficRow[];
  tcpReceived: TrafficRow[];
  tcpOpened: TrafficRow[];
}

const KINDS: QueryKind[] = ['requests', 'buckets', 'tcpSent', 'tcpReceived', 'tcpOpened'];

export interface RowQuery {
  windowMs: number;
  namespace: string | null;
  perInstance: boolean;
  timeMs?: number;
}

/** Runs the five queries (in parallel: a remote Prometheus answers them concurrently). */
export async function fetchTrafficRows(source: MetricsSource, q: RowQuery): Promise<{ rows: TrafficRows; queries: string[] }> {
  const queries = KINDS.map((kind) => trafficQuery({ kind, windowMs: q.windowMs, namespace: q.namespace, perInstance: q.perInstance }));
  const answers = await Promise.all(queries.map((text) => source.query(text, q.timeMs)));
  const rows = Object.fromEntries(KINDS.map((k, i) => [k, toRows(answers[i])])) as unknown as TrafficRows;
  return { rows, queries };
}

function toRows(r: InstantQueryResult): TrafficRow[] {
  if (r.resultType !== 'vector') return [];
  const out: TrafficRow[] = [];
  for (const s of r.result) {
    const v = s.value[1];
    // Zero stays: an idle edge is news (traffic stopped), and a latency bucket with nothing in
    // it still bounds the next one from below. NaN carries nothing.
    if (!(v >= 0)) continue;
    out.push(rowOf(s.metric, v));
  }
  return out;
}

export function rowOf(m: MetricLabels, value: number): TrafficRow {
  const l = (name: string) => m[name] ?? '';
  return {
    reporter: l('reporter') === 'destination' ? 'destination' : 'source',
    sourceWorkload: l('source_workload') || UNKNOWN,
    sourceNamespace: l('source_workload_namespace') || UNKNOWN,
    sourceApp: l('source_app'),
    sourceVersion: l('source_version'),
    sourceCanonical: l('source_canonical_service'),
    service: l('destination_service') || UNKNOWN,
    serviceName: l('destination_service_name'),
    serviceNamespace: l('destination_service_namespace') || UNKNOWN,
    destinationWorkload: l('destination_workload') || UNKNOWN,
    destinationNamespace: l('destination_workload_namespace') || UNKNOWN,
    destinationApp: l('destination_app'),
    destinationVersion: l('destination_version'),
    destinationCanonical: l('destination_canonical_service'),
    protocol: l('request_protocol') || 'http',
    responseCode: l('response_code'),
    grpcStatus: l('grpc_response_status'),
    flags: l('response_flags') || '-',
    securityPolicy: l('connection_security_policy'),
    pod: l('pod'),
    podNamespace: l('namespace'),
    le: l('le'),
    value,
  };
}

/**
 * Kiali's rule for which report counts an edge's traffic: the source sidecar's when the caller
 * has one (it sees what the caller got, client-side failures such as UH, UF, UO included); the
 * destination sidecar's when the caller is outside the mesh (nobody else saw it).
 */
export function countsAsTraffic(r: TrafficRow): boolean {
  return r.reporter === 'source' ? r.sourceWorkload !== UNKNOWN : r.sourceWorkload === UNKNOWN;
}
