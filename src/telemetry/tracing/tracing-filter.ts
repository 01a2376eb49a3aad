import { randomUUID } from 'node:crypto';
import type { Listener } from '../../api/snapshot.js';
import type { CompiledSnapshot } from '../../proxy/compiled-snapshot.js';
import { Continue, type FilterStatus, type HttpFilter, type HttpFilterFactory } from '../../proxy/filters/http-filter.js';
import type { HttpStream } from '../../proxy/http-stream.js';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import { newSpanId, newTraceId, paddedTraceId } from './ids.js';
import { localDecision, samplingThreshold } from './sampling.js';
import type { Span, SpanKind } from './span.js';
import { DECORATOR_HEADER, inboundOperation, routeOperation, unroutedOperation } from './span-names.js';
import { spanOrigin, type SpanOrigin } from './span-origin.js';
import { injectContext, markNotSampled, MALFORMED, NOT_SAMPLED, parentContext, sampledFlag, UNDECIDED } from './trace-context.js';
import { connectionSecurity } from '../../proxy/tls/peer-identity.js';
import { downstreamSocket } from '../../proxy/filters/rbac.js';

// Tracing at the sidecar, as Envoy's connection manager does it under Istio, for every HTTP
// request on every listener:
// - `x-request-id` is generated (a UUID4) when the request has none, and kept when it has one;
// - the sampling decision the headers carry (B3, else W3C) is honoured; without one the proxy
//   decides (sampling.ts) and, when it decides against, says so downstream (`x-b3-sampled: 0`);
// - a sampled request gets a span: CLIENT on outbound listeners, SERVER on inbound ones, child
//   of the caller's span; its ids go upstream in the B3 and W3C headers, so the callee's span
//   (and, through the app, the app's own calls) hang below it.
// A request that is not sampled costs a few header reads and no allocation; the span object
// of a sampled one is built when the stream completes, after the response went out.
//
// Runs first in the chain: requests that a later filter answers itself (fault aborts) are traced too.

/** A sampled stream's span, between onRequest and onComplete. */
interface ActiveSpan {
  traceId: string; // padded to 32 digits
  spanId: string;
  parentId: string | undefined;
  name: string;
}

/**
 * Spans of sampled streams in flight. One map for every filter: a new snapshot rebuilds the
 * listeners' filter chains, and a stream completes through the chain in force at its end.
 */
const active = new WeakMap<HttpStream, ActiveSpan>();

export class TracingFilter implements HttpFilter {
  readonly name = 'tracing';
  private readonly kind: SpanKind;
  private lastConfig: CompiledSnapshot | null = null;
  private threshold = samplingThreshold(undefined);
  private origin: SpanOrigin | null = null;

  constructor(
    private readonly ctx: ProxyContext,
    listener: Listener,
  ) {
    this.kind = listener.direction === 'inbound' ? 'SERVER' : 'CLIENT';
  }

  onRequest(s: HttpStream): FilterStatus {
    const h = s.headers;
    const rid = h['x-request-id'];
    if (rid === undefined || rid === '') h['x-request-id'] = randomUUID();
    if (s.config !== this.lastConfig) this.configure(s.config);
    const flag = sampledFlag(h);
    if (flag === NOT_SAMPLED) return Continue;
    if (flag === UNDECIDED && !localDecision(h, this.threshold)) {
      markNotSampled(h);
      return Continue;
    }
    const parent = parentContext(h);
    if (parent === MALFORMED) return Continue; // Envoy: no span, headers left as they came
    const name = this.operation(s); // selects the route first, as Envoy does before its tracer writes headers
    const traceId = parent?.traceId ?? newTraceId();
    const spanId = newSpanId();
    const parentId = parent?.spanId;
    injectContext(h, { traceId, spanId, parentId, debug: parent?.debug ?? false });
    active.set(s, { traceId: paddedTraceId(traceId), spanId, parentId, name });
    return Continue;
  }

  onComplete(s: HttpStream): void {
    const a = active.get(s);
    if (a === undefined) return;
    active.delete(s);
    const sink = this.ctx.spanSink;
    if (sink === undefined) return;
    if (s.config !== this.lastConfig) this.configure(s.config); // a chain built since the stream started
    sink.add(this.finish(s, a, this.origin!));
  }

  private configure(config: CompiledSnapshot): void {
    this.lastConfig = config;
    this.threshold = samplingThreshold(config.snapshot.telemetry?.tracing?.samplingPercent);
    this.origin = spanOrigin(config.snapshot.node);
  }

  /**
   * The span's name. Outbound: the route's operation, the route selected here (the router
   * reuses it) because Envoy sends it upstream in `x-envoy-decorator-operation` before the
   * request leaves. Inbound: the caller's operation from that header, else this service's.
   */
  private operation(s: HttpStream): string {
    const h = s.headers;
    if (this.kind === 'SERVER') {
      const given = h[DECORATOR_HEADER];
      if (typeof given === 'string' && given !== '') return given;
      // The service behind the inbound port (the inbound cluster's metadata), else a guess from the canonical name.
      const service = s.config.clusters.get(`inbound|${s.listener.def.port}||`)?.def.service;
      return service ? `${service}:${s.listener.def.port}/*` : inboundOperation(this.origin!.service, this.origin!.namespace, s.listener.def.port);
    }
    if (s.route === null) s.route = s.config.routeTableFor(s.listener.def)?.select(s) ?? null;
    const name = s.route ? routeOperation(s.route.def, s.matchIndex, s.port, s.config.snapshot.node) : unroutedOperation(s.authority, s.port);
    h[DECORATOR_HEADER] = name;
    return name;
  }

  private finish(s: HttpStream, a: ActiveSpan, o: SpanOrigin): Span {
    const h = s.headers;
    const span: Span = {
      traceId: a.traceId,
      spanId: a.spanId,
      name: a.name,
      kind: this.kind,
      startMs: s.startMs,
      durationMs: Math.max(0, this.ctx.clock.now() - s.startMs),
      service: o.service,
      workload: o.workload,
      namespace: o.namespace,
      instance: o.instance,
      method: s.method,
      url: `${s.scheme}://${s.authority}${s.path}`,
      protocol: s.h2 ? 'HTTP/2' : 'HTTP/1.1',
      requestId: String(h['x-request-id'] ?? ''),
      status: s.status,
      responseFlags: s.responseFlag,
      requestBytes: contentLength(h['content-length']),
      responseBytes: s.responseContentLength > 0 ? s.responseContentLength : 0,
      // Envoy's `error` tag: no response code, or a 5xx.
      error: s.status === 0 || s.status >= 500,
      component: 'proxy',
    };
    if (a.parentId !== undefined) span.parentId = a.parentId;
    if (o.version !== undefined) span.version = o.version;
    const ua = h['user-agent'];
    if (ua !== undefined) span.userAgent = ua;
    if (s.cluster !== null) span.upstreamCluster = s.cluster.def.name;
    if (s.upstreamHost !== null) span.upstreamHost = s.upstreamHost.key;
    if (this.kind === 'SERVER') {
      const sec = connectionSecurity(downstreamSocket(s));
      if (sec !== undefined) {
        if (sec.principal) span.sourcePrincipal = `spiffe://${sec.principal}`;
        const own = this.ctx.tls?.current?.spiffeId;
        if (own) span.destinationPrincipal = own;
      }
    }
    return span;
  }
}

function contentLength(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The filter for every HTTP listener (registered first in the sidecar's default chain). */
export const tracingFilter: HttpFilterFactory = (listener, ctx) => new TracingFilter(ctx, listener);
