import type { Health, HealthStatus, ResponseRates } from '../health/health.js';

// The service graph as the API, the CLI, diagnosis and the dashboard see it. Ratios are
// fractions (0.1 = 10%), rates per second over the window, counts over the window, latencies
// in milliseconds. `null` means "no data in the window", never zero.

/**
 * - service: one node per service (destination_service); a caller is the service its workload
 *   serves, or the workload itself when it serves none (a traffic generator), or `unknown`.
 * - workload: Kiali's workload graph with service nodes injected: caller workload -> service ->
 *   workload (version) that answered.
 * - instance: caller instance (the reporting sidecar's `pod`) -> service -> instance that answered.
 */
export type GraphLevel = 'service' | 'workload' | 'instance';
export const GRAPH_LEVELS: readonly GraphLevel[] = ['service', 'workload', 'instance'];

/** `unknown`: a caller without a sidecar (Istio's source_workload="unknown"). */
export type NodeKind = 'service' | 'workload' | 'instance' | 'unknown';

export type Reporter = 'source' | 'destination';

export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
}

export interface TcpFigures {
  sentBytesPerSec: number;
  receivedBytesPerSec: number;
  connectionsOpenedPerSec: number;
}

export interface TrafficFigures {
  /** HTTP and gRPC requests per second. */
  rps: number;
  /** Requests in the window (rps x window, as increase() counts them). */
  requests: number;
  /** linkerd's success rate: not 5xx, not without a response, and gRPC OK. null without requests. */
  successRatio: number | null;
  /** Share of requests answered with an HTTP 5xx (gRPC requests included). */
  errorRatio: number | null;
  /** Share answered with an HTTP 4xx. */
  clientErrorRatio: number | null;
  /** Share of gRPC requests whose grpc-status is not OK; null without gRPC requests. */
  grpcErrorRatio: number | null;
  /** Share that got no response at all (response_code 0). */
  noResponseRatio: number | null;
  /** histogram_quantile of istio_request_duration_milliseconds over the window; null without requests. */
  latencyMs: LatencyMs | null;
  /** Requests (TCP: connections) in the window per Envoy response flag other than `-`. */
  flags: Record<string, number>;
  /** Requests per second by protocol and response code (Kiali's code keys: HTTP status, gRPC status for gRPC, `-` for none). */
  responses: ResponseRates;
  /** Share of the destination-reported traffic on mutual TLS; null when no destination sidecar reported it. */
  mtls: number | null;
  /** TCP traffic (istio_tcp_*); null when none. */
  tcp: TcpFigures | null;
}

/** What a node is: identity and the labels it is known by (nodes.ts builds them from metric rows). */
export interface NodeRef {
  id: string;
  kind: NodeKind;
  namespace: string;
  /** Short name: the service's, the workload's or the instance's. */
  name: string;
  /** destination_service (FQDN) of a service node. */
  service?: string;
  /** A service with no mesh workload behind it in the window (ServiceEntry host, unrouted Host). */
  external?: boolean;
  workload?: string;
  app?: string;
  version?: string;
  /** The instance (pod) of an instance node. */
  instance?: string;
}

export interface GraphNode extends NodeRef {
  /** What reached the node; null when nothing did. */
  inbound: TrafficFigures | null;
  /** What the node sent (through its edges); null when nothing. */
  outbound: TrafficFigures | null;
  health: HealthStatus;
  healthReason?: string;
}

export interface GraphEdge extends TrafficFigures {
  id: string;
  source: string;
  target: string;
  protocol: string;
  /**
   * Whose reports the figures come from (Kiali's rule, docs/observability-graph.md): `source`
   * for callers with a sidecar, `destination` for callers outside the mesh (and for
   * service -> instance edges); an edge fed by both lists both.
   */
  reporters: Reporter[];
  health: HealthStatus;
  healthReason?: string;
}

export interface TrafficGraph {
  level: GraphLevel;
  namespace: string | null;
  /** The window as asked (`1m`) and in seconds. */
  window: string;
  windowSeconds: number;
  /** Evaluation time, Unix milliseconds. */
  timeMs: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The PromQL the graph was built from (evidence a person can rerun on Prometheus). */
  queries: string[];
}

export type { Health, HealthStatus };
