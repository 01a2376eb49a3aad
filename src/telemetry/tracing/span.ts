// One span as a sidecar records it: one per request per hop, as Envoy does under Istio. The
// outbound sidecar of the caller records a CLIENT span, the inbound sidecar of the callee a
// SERVER span whose parent is that CLIENT span (Istio turns Zipkin's shared span context off),
// and the app's own calls become children of the SERVER span through the headers it forwards.
//
// Plain JSON: spans cross a process boundary (sidecar -> control plane -> OTLP collector).
// Field names follow Envoy's span tags where there is one (comment), so readers of Jaeger or
// Zipkin find what they know.

export type SpanKind = 'CLIENT' | 'SERVER';

export interface Span {
  /** 32 lower-case hex digits (a 64-bit B3 trace id is left-padded with zeros, as OpenTelemetry does). */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  /** The span this one is a child of; absent for a trace's root. */
  parentId?: string;
  /** Envoy's operation name: the route's decorator, `<host>:<port>/*` or `<host>:<port><path>` (Istio's naming). */
  name: string;
  kind: SpanKind;
  /** Start, epoch milliseconds (the sidecar's clock). */
  startMs: number;
  durationMs: number;

  // Who recorded it: the proxy's workload instance.
  /** Canonical service (`service.istio.io/canonical-name`, else `app`, else the workload). */
  service: string;
  /** Canonical revision (`service.istio.io/canonical-revision`, else `version`), when known. */
  version?: string;
  workload: string;
  namespace: string;
  instance: string;

  // The request (tags http.method, http.url, http.protocol, guid:x-request-id, user_agent).
  method: string;
  url: string;
  protocol: 'HTTP/1.1' | 'HTTP/2';
  requestId: string;
  userAgent?: string;

  // Where it went (tags upstream_cluster, upstream_address) and how it ended.
  upstreamCluster?: string;
  upstreamHost?: string;
  /** SERVER spans of requests over mutual TLS: the caller's and this workload's SPIFFE ids (Istio's source/destination principal). */
  sourcePrincipal?: string;
  destinationPrincipal?: string;
  /** HTTP status sent downstream; 0 when none was (reset before the response). */
  status: number;
  /** Envoy response flags, `-` for none (e.g. `UF`, `UH`, `URX`, `DI,FI`). */
  responseFlags: string;
  /** Body bytes (request_size / response_size tags): from content-length when the body is not streamed. */
  requestBytes: number;
  responseBytes: number;
  /** Envoy's `error` tag: no status, or 5xx. */
  error: boolean;
  /** Always `proxy` (Envoy's `component` tag): the span was recorded by a sidecar, not the app. */
  component: 'proxy';
}

/** Where finished spans go: the sidecar's reporter, or a test's collector. Called off the request's path to the client (after the response). */
export interface SpanSink {
  add(span: Span): void;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** Why a span received from elsewhere is not acceptable, or null when it is. */
export function spanProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object') return 'not an object';
  const s = v as Partial<Span>;
  if (typeof s.traceId !== 'string' || !HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) return 'traceId must be 32 lower-case hex digits, not all zero';
  if (typeof s.spanId !== 'string' || !HEX16.test(s.spanId)) return 'spanId must be 16 lower-case hex digits';
  if (s.parentId !== undefined && (typeof s.parentId !== 'string' || !HEX16.test(s.parentId))) return 'parentId must be 16 lower-case hex digits';
  if (s.kind !== 'CLIENT' && s.kind !== 'SERVER') return 'kind must be CLIENT or SERVER';
  if (typeof s.startMs !== 'number' || !Number.isFinite(s.startMs)) return 'startMs must be a number';
  if (typeof s.durationMs !== 'number' || !(s.durationMs >= 0)) return 'durationMs must be a number >= 0';
  for (const k of ['name', 'service', 'namespace', 'instance'] as const) if (typeof s[k] !== 'string') return `${k} must be a string`;
  if (typeof s.status !== 'number') return 'status must be a number';
  return null;
}
