// A topology: a synthetic service graph, read from Istio's isotope format plus meshmedic's
// extensions (docs/topology.md). Everything here is resolved: defaults applied, every call
// pointing at a known service and port, every duration in milliseconds and every size in
// bytes. The workload runtime executes it; planMesh turns it into registry objects.

/** Protocol of a service port. `http2` and `grpc` are served as HTTP/2 (h2c) and answer with gRPC-style status. */
export type TopologyProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

/** How long something takes: sampled anew on every request. All values in milliseconds. */
export type Latency =
  | { distribution: 'fixed'; ms: number }
  | { distribution: 'uniform'; minMs: number; maxMs: number }
  | { distribution: 'normal'; meanMs: number; stddevMs: number; capMs?: number }
  | { distribution: 'exponential'; meanMs: number; capMs?: number }
  | { distribution: 'lognormal'; medianMs: number; sigma: number; capMs?: number };

export type OnError = 'propagate' | 'fallback';

/** One `call` step, resolved to the service it reaches. */
export interface Call {
  service: string; // target service name
  namespace: string; // target service namespace
  port: number; // target service port (the Service's port, not the targetPort)
  protocol: TopologyProtocol; // protocol of that port
  /** Authority to send instead of `<service>[.<namespace>]:<port>` (isotope's `hostname`). */
  hostname?: string;
  path: string; // HTTP path, `/` by default
  method: string; // GET, or POST when the call carries a body
  size: number; // request body bytes
  probability: number; // 0..1: chance the call is made at all
  timeoutMs?: number; // per attempt; none by default
  attempts: number; // tries before the call counts as failed (1 = no retry)
  onError: OnError;
  /** With onError fallback: what the caller puts in its answer instead of the callee's. */
  fallback?: string;
  line: number; // where the call is written, for messages (0 when generated)
}

export type Step =
  | { kind: 'sleep'; latency: Latency }
  | { kind: 'call'; call: Call }
  /** A nested list in isotope: its steps run at once, and the script waits for all of them. */
  | { kind: 'concurrent'; steps: Array<{ kind: 'sleep'; latency: Latency } | { kind: 'call'; call: Call }> };

/** What an instance does with each request it receives. */
export interface Behaviour {
  errorRate: number; // 0..1: chance of answering 500 (gRPC-style ports: grpc-status 13) without running the script
  responseSize: number; // bytes of padding in every answer
  latency?: Latency; // processing time added to every request
  script: Step[];
}

export interface TopologyVersion {
  name: string; // label `version`, e.g. v1
  replicas: number;
  labels: Record<string, string>; // extra labels; `app` and `version` are added by planMesh
  behaviour: Behaviour;
  line: number;
}

export interface ServicePort {
  name: string;
  port: number; // what callers dial (the Service port)
  targetPort: number; // what instances serve (their sidecar's inbound listener)
  protocol: TopologyProtocol;
}

export interface TopologyService {
  name: string;
  namespace: string;
  serviceAccount: string;
  isEntrypoint: boolean;
  ports: ServicePort[];
  versions: TopologyVersion[];
  line: number;
}

export interface Topology {
  file: string;
  services: TopologyService[];
}

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const DEFAULT_VERSION = 'v1';
/** isotope's services listen on 8080. */
export const DEFAULT_PORT = 8080;

export function findService(t: Topology, name: string, namespace: string): TopologyService | undefined {
  return t.services.find((s) => s.name === name && s.namespace === namespace);
}

/** Every call a version can make, concurrent ones included, in script order. */
export function callsOf(b: Behaviour): Call[] {
  const out: Call[] = [];
  for (const step of b.script) {
    if (step.kind === 'call') out.push(step.call);
    else if (step.kind === 'concurrent') for (const s of step.steps) if (s.kind === 'call') out.push(s.call);
  }
  return out;
}
