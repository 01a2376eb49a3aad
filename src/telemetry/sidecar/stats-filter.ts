import type { Listener } from '../../api/snapshot.js';
import type { HttpStream } from '../../proxy/http-stream.js';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import { Continue, type FilterStatus, type HttpFilter, type HttpFilterFactory } from '../../proxy/filters/http-filter.js';
import { ResponseFlag } from '../../proxy/response-flags.js';
import type { RuntimeCluster } from '../../proxy/upstream/cluster.js';
import type { UpstreamHost } from '../../proxy/upstream/host.js';
import { streamBytes } from './byte-meter.js';
import { destinationEdgeText, inboundServiceOf, sourceEdgeText } from './edges.js';
import { httpLabelText, type Reporter } from './label-sets.js';
import { connectionSecurity } from '../../proxy/tls/peer-identity.js';
import { downstreamSocket } from '../../proxy/filters/rbac.js';
import type { HttpSeries, IstioMetricRegistry } from './metric-registry.js';
import { anyHttpMetric, metricSwitches, type MetricSwitches } from './settings.js';
import { telemetryOf } from './sidecar-telemetry.js';
import type { WorkloadIdentity } from './workload-identity.js';

// Istio's stats filter for HTTP: when a stream completes, count it in istio_requests_total and
// observe its duration and sizes, under the labels of its edge and outcome. `reporter="source"`
// on outbound listeners, `"destination"` on inbound ones; local replies (NR, UH, UF, UO, UT, FI,
// ...) count with their flags, as Envoy's do.
//
// The steady path builds no string: an edge (the cluster and host on source reports, the peer on
// destination reports) is found by object identity in a Map, and the series of an outcome with no
// flag and no gRPC status by its numeric response code. Only a new edge or outcome renders label
// text and looks the series up in the registry. Edges are cached per compiled cluster, so a new
// snapshot renders its edges once and finds the same series (the registry keys them by labels).

interface Edge {
  text: string;
  /** Destination reports over mutual TLS (connection_security_policy `mutual_tls`). */
  mtls: boolean;
  /** Series by HTTP status, for outcomes without flag or gRPC status (the common case). */
  plain: Map<number, HttpSeries>;
  /** Series of other outcomes by `code|flags|grpc|protocol`. */
  other: Map<string, HttpSeries>;
}

/** Edges kept per key space before the cache starts over (the series stay in the registry). */
const MAX_EDGES = 2048;

const newEdge = (text: string, mtls = false): Edge => ({ text, mtls, plain: new Map(), other: new Map() });

class IstioStatsFilter implements HttpFilter {
  readonly name = 'istio.stats';
  private readonly reporter: Reporter;
  /** Source reports: edges by cluster, then by host (null: no host was chosen, UH). */
  private readonly byCluster = new WeakMap<RuntimeCluster, Map<UpstreamHost | null, Edge>>();
  /** Source reports of requests that found no cluster (NR, NC, direct responses): by authority. */
  private readonly byAuthority = new Map<string, Edge>();
  /** Destination reports: edges by peer (null: unknown caller). */
  private readonly byPeer = new Map<WorkloadIdentity | null, Edge>();
  /** Destination reports over mutual TLS: edges by the peer's principal, then by peer. */
  private readonly byPrincipal = new Map<string, Map<WorkloadIdentity | null, Edge>>();

  constructor(
    listener: Listener,
    private readonly ctx: ProxyContext,
    private readonly registry: IstioMetricRegistry,
    private readonly self: WorkloadIdentity,
    private readonly on: MetricSwitches,
    private readonly inboundService: string | undefined,
  ) {
    this.reporter = listener.direction === 'outbound' ? 'source' : 'destination';
  }

  onRequest(_s: HttpStream): FilterStatus {
    return Continue;
  }

  onComplete(s: HttpStream): void {
    const edge = this.reporter === 'source' ? this.sourceEdge(s) : this.destinationEdge(s);
    // gRPC is told by the request's content-type, whatever the HTTP version (as Envoy's gRPC detection).
    const grpc = isGrpc(s.headers['content-type']);
    let series: HttpSeries | undefined;
    if (!grpc && s.responseFlag === ResponseFlag.None) {
      series = edge.plain.get(s.status);
      if (series === undefined) edge.plain.set(s.status, (series = this.series(edge, 'http', s.status, '', ResponseFlag.None)));
    } else {
      const code = grpc && s.res.headersSent ? s.res.statusCode : s.status;
      const grpcStatus = grpc ? grpcStatusOf(s) : '';
      const key = `${code}|${s.responseFlag}|${grpcStatus}|${grpc ? 'g' : 'h'}`;
      series = edge.other.get(key);
      if (series === undefined) edge.other.set(key, (series = this.series(edge, grpc ? 'grpc' : 'http', code, grpcStatus, s.responseFlag)));
    }
    const on = this.on;
    if (on.requestCount) series.requests++;
    if (on.requestDuration) series.duration.observe(this.ctx.clock.now() - s.startMs);
    if (on.requestSize || on.responseSize) {
      const bytes = streamBytes(s);
      if (on.requestSize) series.requestBytes.observe(bytes.received);
      if (on.responseSize) series.responseBytes.observe(bytes.sent);
    }
  }

  private series(edge: Edge, protocol: 'http' | 'grpc', code: number, grpcStatus: string, flags: string): HttpSeries {
    return this.registry.http(httpLabelText(edge.text, this.reporter, protocol, code, grpcStatus, flags, edge.mtls));
  }

  private sourceEdge(s: HttpStream): Edge {
    const cluster = s.cluster ?? routedCluster(s);
    if (cluster === null) {
      let edge = this.byAuthority.get(s.authority);
      if (edge === undefined) {
        if (this.byAuthority.size >= MAX_EDGES) this.byAuthority.clear(); // any Host header can get here
        this.byAuthority.set(s.authority, (edge = newEdge(sourceEdgeText(this.self, null, null, s.authority))));
      }
      return edge;
    }
    let byHost = this.byCluster.get(cluster);
    if (byHost === undefined) this.byCluster.set(cluster, (byHost = new Map()));
    const host = s.upstreamHost;
    let edge = byHost.get(host);
    if (edge === undefined) byHost.set(host, (edge = newEdge(sourceEdgeText(this.self, cluster, host, s.authority))));
    return edge;
  }

  private destinationEdge(s: HttpStream): Edge {
    const peer = s.peer;
    const sec = connectionSecurity(downstreamSocket(s));
    if (sec !== undefined) return this.mtlsEdge(peer, sec.principal);
    let edge = this.byPeer.get(peer);
    if (edge === undefined) {
      if (this.byPeer.size >= MAX_EDGES) this.byPeer.clear(); // peers are decoded anew when the peer cache turns over
      this.byPeer.set(peer, (edge = newEdge(destinationEdgeText(this.self, peer, this.inboundService))));
    }
    return edge;
  }

  /** A destination report over mutual TLS: the peer's principal and this workload's are labels. */
  private mtlsEdge(peer: WorkloadIdentity | null, principal: string): Edge {
    let byPeer = this.byPrincipal.get(principal);
    if (byPeer === undefined) {
      if (this.byPrincipal.size >= MAX_EDGES) this.byPrincipal.clear();
      this.byPrincipal.set(principal, (byPeer = new Map()));
    }
    let edge = byPeer.get(peer);
    if (edge === undefined) {
      const own = this.ctx.tls?.current?.spiffeId ?? '';
      const principals = { source: principal ? `spiffe://${principal}` : '', destination: own };
      byPeer.set(peer, (edge = newEdge(destinationEdgeText(this.self, peer, this.inboundService, principals), true)));
    }
    return edge;
  }
}

/**
 * The cluster a stream's route points at when the router did not get to choose one (a fault
 * abort before it): Envoy's stream info carries the route's cluster from route selection on,
 * so its reports name the service. Null for redirects, direct responses and unrouted requests.
 */
function routedCluster(s: HttpStream): RuntimeCluster | null {
  const route = s.route;
  if (route === null || route.kind !== 'route') return null;
  const dest = s.destination ?? route.destinations[0];
  return (dest && s.config.clusters.get(dest.cluster)) ?? null;
}

/** gRPC's content types: `application/grpc`, `application/grpc+proto`, `application/grpc;...` (not grpc-web). */
function isGrpc(ct: string | undefined): boolean {
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  const next = ct.charCodeAt(16);
  return Number.isNaN(next) || next === 43 /* + */ || next === 59 /* ; */;
}

/** The grpc-status the client got: in the trailers, or in the headers of a trailers-only (or local) reply; '' when none. */
function grpcStatusOf(s: HttpStream): string {
  const stream = (s.res as unknown as { stream?: { sentTrailers?: Record<string, unknown>; sentHeaders?: Record<string, unknown> } }).stream;
  const v = stream?.sentTrailers?.['grpc-status'] ?? stream?.sentHeaders?.['grpc-status'];
  if (v !== undefined) return String(v);
  // An HTTP/1.1 downstream (a caller that speaks gRPC-shaped h1: grpc-status in the headers):
  // node:http keeps the header block it wrote, not the headers, when writeHead gets an array.
  const h1 = (s.res as unknown as { _header?: string | null })._header;
  const m = typeof h1 === 'string' ? /\r\ngrpc-status:\s*(\d+)/i.exec(h1) : null;
  return m ? m[1] : '';
}

/** Istio's stats filter on a listener; none when every HTTP metric is disabled there. */
export const istioStatsFilter: HttpFilterFactory = (listener, ctx) => {
  const snapshot = ctx.current?.snapshot;
  if (!snapshot) return null;
  const on = metricSwitches(snapshot.telemetry, listener.direction);
  if (!anyHttpMetric(on)) return null;
  const t = telemetryOf(ctx);
  const service = listener.direction === 'inbound' ? inboundServiceOf(snapshot, listener) : undefined;
  return new IstioStatsFilter(listener, ctx, t.metrics, t.self(snapshot.node), on, service);
};
