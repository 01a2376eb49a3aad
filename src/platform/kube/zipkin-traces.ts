import type { Span } from '../../telemetry/tracing/span.js';
import { spanProblem } from '../../telemetry/tracing/span.js';
import type { TraceQuery, TraceSource, TraceSummary, TraceView } from '../../telemetry/tracing/trace-source.js';
import { TraceStore } from '../../telemetry/tracing/trace-store.js';

// Traces of an Istio mesh on Kubernetes, from a Zipkin query API (`--traces URL`: Istio's Zipkin
// addon, or anything that serves Zipkin's v2 API, GET /api/v2/traces). Diagnosis reads traces
// through the synchronous TraceSource interface, so the spans are fetched ahead
// (refresh(from, to): one query for the window) into a bounded TraceStore, and read from there.
//
// Envoy under Istio reports Zipkin v2 spans with its tags: `istio.canonical_service`,
// `istio.canonical_revision`, `istio.namespace`, `node_id` (`sidecar~IP~POD.NS~NS.svc...`: the
// instance), `http.status_code`, `error`, `response_flags`, `upstream_cluster`, `http.url`,
// `guid:x-request-id`, ... They become meshmedic's spans field by field (span.ts names the tag
// behind each field); a span that cannot be one (no valid ids) is counted and left out.

type Json = Record<string, any>;

export class TraceQueryError extends Error {
  readonly code = 'E_TRACES_QUERY';
}

export interface ZipkinOptions {
  url: string;
  clock?: { now(): number };
  /** Traces asked for per refresh (Zipkin's `limit`). */
  limit?: number;
  timeoutMs?: number;
}

export class ZipkinTraceSource implements TraceSource {
  private readonly store: TraceStore;
  private readonly base: string;
  /** Spans left out because they were not valid spans (for notes and tests). */
  invalid = 0;

  constructor(private readonly opts: ZipkinOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.store = new TraceStore({ clock: opts.clock ?? { now: Date.now } });
  }

  /** Fetches the traces of [fromMs, toMs] (newest first, at most `limit`); returns how many spans were new. */
  async refresh(fromMs: number, toMs: number): Promise<number> {
    const q = new URLSearchParams({ endTs: String(Math.round(toMs)), lookback: String(Math.max(1, Math.round(toMs - fromMs))), limit: String(this.opts.limit ?? 300) });
    const url = `${this.base}/api/v2/traces?${q}`;
    let body: unknown;
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
      if (!res.ok) throw new TraceQueryError(`GET ${url}: HTTP ${res.status}`);
      body = await res.json();
    } catch (e) {
      if (e instanceof TraceQueryError) throw e;
      throw new TraceQueryError(`cannot query Zipkin at ${this.base}: ${(e as Error).message}`);
    }
    if (!Array.isArray(body)) throw new TraceQueryError(`GET ${url}: want a list of traces (Zipkin v2)`);
    const spans: Span[] = [];
    for (const trace of body) {
      for (const z of Array.isArray(trace) ? trace : []) {
        const s = fromZipkin(z);
        if (s) spans.push(s);
        else this.invalid++;
      }
    }
    return this.store.add(spans).length;
  }

  trace(traceId: string): TraceView | undefined {
    return this.store.trace(traceId);
  }

  recent(query: TraceQuery): TraceSummary[] {
    return this.store.recent(query);
  }
}

/** A Zipkin v2 span as Envoy reports it under Istio, as meshmedic's span; undefined when it cannot be one. */
export function fromZipkin(z: Json): Span | undefined {
  if (!z || typeof z !== 'object') return undefined;
  const tags: Record<string, string> = z.tags ?? {};
  // node_id: sidecar~10.244.0.12~reviews-v2-5b667bcbf8-vn7r4.bookinfo~bookinfo.svc.cluster.local
  const podDotNs = String(tags.node_id ?? '').split('~')[2] ?? '';
  const namespace = tags['istio.namespace'] ?? (podDotNs.includes('.') ? podDotNs.slice(podDotNs.indexOf('.') + 1) : '');
  const instance = podDotNs.endsWith(`.${namespace}`) ? podDotNs.slice(0, -namespace.length - 1) : podDotNs;
  const localName = String(z.localEndpoint?.serviceName ?? '');
  const service = tags['istio.canonical_service'] ?? (localName.endsWith(`.${namespace}`) ? localName.slice(0, -namespace.length - 1) : localName);
  const span: Span = {
    traceId: String(z.traceId ?? '').toLowerCase().padStart(32, '0'),
    spanId: String(z.id ?? '').toLowerCase(),
    ...(z.parentId !== undefined && { parentId: String(z.parentId).toLowerCase() }),
    name: String(z.name ?? ''),
    kind: z.kind === 'CLIENT' ? 'CLIENT' : 'SERVER',
    startMs: Number(z.timestamp) / 1000,
    durationMs: Number(z.duration ?? 0) / 1000,
    service,
    ...(tags['istio.canonical_revision'] && tags['istio.canonical_revision'] !== 'latest' && { version: tags['istio.canonical_revision'] }),
    workload: workloadOf(instance),
    namespace,
    instance,
    method: tags['http.method'] ?? '',
    url: tags['http.url'] ?? '',
    protocol: tags['http.protocol'] === 'HTTP/2' ? 'HTTP/2' : 'HTTP/1.1',
    requestId: tags['guid:x-request-id'] ?? '',
    ...(tags.user_agent && { userAgent: tags.user_agent }),
    ...(tags.upstream_cluster && { upstreamCluster: tags.upstream_cluster }),
    ...((tags.upstream_address ?? tags['peer.address']) && { upstreamHost: tags.upstream_address ?? tags['peer.address'] }),
    status: Number(tags['http.status_code'] ?? 0) || 0,
    responseFlags: tags.response_flags ?? '-',
    requestBytes: Number(tags.request_size ?? 0) || 0,
    responseBytes: Number(tags.response_size ?? 0) || 0,
    // Envoy tags `error: true` on a span without a status or with a 5xx.
    error: tags.error !== undefined && tags.error !== 'false',
    component: 'proxy',
  };
  if (z.kind !== 'CLIENT' && z.kind !== 'SERVER') return undefined; // a span Envoy did not record
  return spanProblem(span) === null ? span : undefined;
}

/** The workload of a pod: a Deployment's pod name less `-<pod-template-hash>-<suffix>`. */
function workloadOf(pod: string): string {
  const m = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(pod);
  return m ? m[1] : pod;
}
