// The SignalSnapshot: everything the localizer and the detectors read, for one window, in a
// platform-neutral form. The local mesh builds it from Istio's metrics through MetricsSource
// (+ traces, the config store, the registry, the sidecars' outlier events); a Kubernetes mesh
// with Prometheus builds the same from the same PromQL; the offline benchmark builds one from
// recorded CSV series. Nothing here knows where the figures came from.
//
// Figures are per second (rates) or counts over the window; latencies in milliseconds; `null`
// means "no data", never zero.

export type Reporter = 'source' | 'destination';

/** Traffic figures of one thing over one window, as one reporter saw them. */
export interface Features {
  /** Requests per second. */
  rps: number;
  /** Requests in the window. */
  requests: number;
  /** Requests answered 5xx or not answered at all (response code 0), per second. */
  errorRps: number;
  /** errorRps / rps; null without requests. */
  errorRatio: number | null;
  /** Errors without a response flag: answered by the application itself (a proxy's own replies carry a flag). */
  appErrorRps: number;
  /** Requests in the window by response code (`200`, `503`, `0`). */
  codes: Record<string, number>;
  /** Requests in the window by Envoy response flag (`UF`, `UO`, `DI,FI`; no `-`). */
  flags: Record<string, number>;
  /** Latency quantiles from the duration histogram; null without requests (a recording may know only some: null for the others). */
  latency: { p50: number | null; p95: number | null; p99: number | null } | null;
  /** Mean latency (sum / count); null without requests, or when only quantiles are known. */
  meanMs: number | null;
}

/**
 * The latency figure diagnosis compares and subtracts: the mean when the histogram's sum is
 * known (means add up along a call chain), else the lowest quantile known (a recording of
 * quantiles only). Current and baseline come from the same source, so they compare.
 */
export function typicalLatency(f: Features | null | undefined): number | null {
  return f?.meanMs ?? f?.latency?.p50 ?? f?.latency?.p95 ?? f?.latency?.p99 ?? null;
}

/** A thing seen by both reporters: callers' sidecars (`source`) and its own (`destination`). */
export interface Reported {
  source: Features | null;
  destination: Features | null;
}

/** The same thing in the window under study and in the baseline window before it. */
export interface Observed {
  current: Reported;
  baseline: Reported;
}

export type EntityKind = 'service' | 'workload' | 'instance' | 'external';

/**
 * A service (its inbound traffic), a workload (a version of a service), an instance, or an
 * external host (a ServiceEntry or any destination without a sidecar of the mesh).
 */
export interface Entity extends Observed {
  id: string;
  kind: EntityKind;
  namespace: string;
  /** Short name of the service (`reviews`): set on every kind but external. */
  service?: string;
  /** FQDN (`reviews.bookinfo.svc.cluster.local`) or the external host. */
  host: string;
  workload?: string;
  version?: string;
  instance?: string;
  /** Outbound traffic of a workload or instance as its own sidecar reported it (source reports). */
  outbound?: { current: Features | null; baseline: Features | null };
  /** Resource use when the platform reports it (the offline data has CPU; the local mesh does not yet). */
  cpuPercent?: { current: number | null; baseline: number | null };
}

/** Calls from one workload (or instance) to one service. */
export interface Edge extends Observed {
  id: string;
  /** The calling workload; `unknown` for callers outside the mesh. */
  sourceWorkload: string;
  sourceNamespace: string;
  /** The service the calling workload serves, when it serves one. */
  sourceService?: string;
  /** The calling instance, for per-instance edges (source reports name their pod). */
  sourceInstance?: string;
  /** The destination service: its FQDN or external host, and short name and namespace. */
  host: string;
  service: string;
  namespace: string;
  external: boolean;
  protocol: 'http' | 'grpc' | 'tcp';
}

export interface ConfigChangeSignal {
  version: number;
  at: number;
  type: 'added' | 'updated' | 'deleted';
  resource: { kind: string; namespace: string; name: string };
  /** FQDNs (or external hosts) the resource speaks of, before and after the change. */
  hosts: string[];
  /** Workloads a selector-based resource (AuthorizationPolicy, Sidecar, ...) applies to, as `namespace/workload`. */
  workloads?: string[];
  /** What changed, in words (`route weight to subset chaos 0 -> 50`, `fault abort 100% 503 added`). */
  details: string[];
  /** Aspects the change touches: `routing`, `subsets`, `fault`, `timeout`, `retries`, `connectionPool`, `outlierDetection`, `tls`, `authorization`, `endpoints`. */
  aspects: string[];
}

export interface InstanceState {
  namespace: string;
  name: string;
  workload: string;
  service: string;
  version: string;
  /** Ready in the registry (the readiness probe answers). */
  ready: boolean;
  /** When `ready` last changed (ms), when known. */
  since?: number;
  /** The sidecar's stats endpoint answered the last scrape (`up`); null when unknown. */
  scrapeUp: boolean | null;
  /** Taken out of load balancing on purpose (recovery's quarantine): its lost traffic is no symptom. */
  withdrawn?: boolean;
}

export interface OutlierEventSignal {
  at: number;
  kind: 'eject' | 'uneject';
  /** The instance ejected, and the sidecar that ejected it. */
  instance: string;
  namespace: string;
  reportedBy: string;
  cluster: string;
  /** The service host of the cluster (`reviews.bookinfo.svc.cluster.local`). */
  host: string;
  reason: string;
}

export interface AnalysisFinding {
  code: string;
  level: string;
  text: string;
  resource?: { kind: string; namespace: string; name: string };
  /** FQDNs the resource speaks of. */
  hosts: string[];
}

/** Per culprit (the deepest failing or slowest span whose children are fine), how many traces point at it. */
export interface TraceCulprit {
  service: string;
  namespace: string;
  workload: string;
  instance: string;
  /** Traces with an error whose deepest failing span is here. */
  errorTraces: number;
  /** Traces whose span with the most time of its own is here, in the current and the baseline window. */
  slowTraces: number;
  baselineSlowTraces: number;
}

export interface SignalWindow {
  startMs: number;
  endMs: number;
}

export interface SignalSnapshot {
  /** Evaluation time. */
  at: number;
  current: SignalWindow;
  baseline: SignalWindow;
  namespace: string | null;
  entities: Entity[];
  edges: Edge[];
  /** Edges per calling instance (source reports by pod): network faults of one instance show here. */
  instanceEdges: Edge[];
  configChanges: ConfigChangeSignal[];
  instances: InstanceState[];
  outlierEvents: OutlierEventSignal[];
  findings: AnalysisFinding[];
  traces: { errorTraces: number; sampledTraces: number; culprits: TraceCulprit[] } | null;
  /** The PromQL the traffic figures came from. */
  queries: string[];
  /** Things the adapter could not read (an unreachable sidecar, a failed query): diagnosis goes on without them. */
  notes: string[];
}
