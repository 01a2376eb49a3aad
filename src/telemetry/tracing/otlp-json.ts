import type { Span } from './span.js';

// Spans as an OTLP `ExportTraceServiceRequest` in OTLP/JSON (the protobuf JSON mapping, with
// OTLP's exceptions: trace and span ids are hex strings, enums are integers, 64-bit integers
// are decimal strings). One resource per workload instance, named as Istio names the service
// in tracing backends (`<canonical service>.<namespace>`); span attributes carry Envoy's tag
// names, so a query written against Istio's spans in Jaeger or Tempo finds ours.

export const OTLP_SCOPE = { name: 'meshmedic-proxy', version: '0.1.0' };

/** OTLP SpanKind values. */
const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const;
/** OTLP Status codes. */
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

export type OtlpAnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean };
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: number; message?: string };
}

export interface OtlpTraceRequest {
  resourceSpans: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: Array<{ scope: typeof OTLP_SCOPE; spans: OtlpSpan[] }>;
  }>;
}

export function toOtlpRequest(spans: readonly Span[]): OtlpTraceRequest {
  const byInstance = new Map<string, Span[]>();
  for (const s of spans) {
    const key = `${s.namespace}/${s.instance}`;
    const list = byInstance.get(key);
    if (list) list.push(s);
    else byInstance.set(key, [s]);
  }
  return {
    resourceSpans: [...byInstance.values()].map((list) => ({
      resource: { attributes: resourceAttributes(list[0]) },
      scopeSpans: [{ scope: OTLP_SCOPE, spans: list.map(toOtlpSpan) }],
    })),
  };
}

function resourceAttributes(s: Span): OtlpKeyValue[] {
  const out = [str('service.name', `${s.service}.${s.namespace}`), str('service.instance.id', s.instance), str('k8s.namespace.name', s.namespace), str('k8s.pod.name', s.instance)];
  if (s.version !== undefined) out.push(str('service.version', s.version));
  return out;
}

export function toOtlpSpan(s: Span): OtlpSpan {
  const attributes: OtlpKeyValue[] = [
    str('component', s.component),
    str('guid:x-request-id', s.requestId),
    str('http.url', s.url),
    str('http.method', s.method),
    str('http.protocol', s.protocol),
    int('http.status_code', s.status),
    str('response_flags', s.responseFlags),
    int('request_size', s.requestBytes),
    int('response_size', s.responseBytes),
    str('istio.canonical_service', s.service),
    str('istio.namespace', s.namespace),
    str('istio.workload', s.workload),
  ];
  if (s.version !== undefined) attributes.push(str('istio.canonical_revision', s.version));
  if (s.upstreamCluster !== undefined) attributes.push(str('upstream_cluster', s.upstreamCluster));
  if (s.upstreamHost !== undefined) attributes.push(str('upstream_address', s.upstreamHost));
  if (s.userAgent !== undefined) attributes.push(str('user_agent', s.userAgent));
  if (s.sourcePrincipal !== undefined) attributes.push(str('source_principal', s.sourcePrincipal));
  if (s.destinationPrincipal !== undefined) attributes.push(str('destination_principal', s.destinationPrincipal));
  if (s.error) attributes.push({ key: 'error', value: { boolValue: true } });
  const out: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: SPAN_KIND[s.kind],
    startTimeUnixNano: nanos(s.startMs),
    endTimeUnixNano: nanos(s.startMs + s.durationMs),
    attributes,
    status: s.error ? { code: STATUS_ERROR, message: s.status === 0 ? `no response (${s.responseFlags})` : `HTTP ${s.status}` } : { code: STATUS_UNSET },
  };
  if (s.parentId !== undefined) out.parentSpanId = s.parentId;
  return out;
}

/** Milliseconds (possibly fractional) as integer nanoseconds in a decimal string, exactly. */
function nanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

function str(key: string, v: string): OtlpKeyValue {
  return { key, value: { stringValue: v } };
}

function int(key: string, v: number): OtlpKeyValue {
  return { key, value: { intValue: String(Math.trunc(v)) } };
}
