import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledSnapshot } from './compiled-snapshot.js';
import type { CompiledRoute, CompiledDestination } from './routing/route-table.js';
import type { RuntimeCluster } from './upstream/cluster.js';
import type { UpstreamHost } from './upstream/host.js';
import type { ListenerRuntime } from './listeners/listener-runtime.js';
import type { UpstreamRequest } from './router/upstream-request.js';
import { ResponseFlag } from './response-flags.js';
import type { WorkloadIdentity } from '../telemetry/sidecar/workload-identity.js';

// The state of one downstream request as it crosses the filter chain (Envoy's stream): what
// was asked (parsed once), what the router decided, and the outcome (status, response flag,
// details) that telemetry reads when the stream completes. A class with plain fields, so
// every request has the same shape and the hot path allocates one object.

export class HttpStream {
  readonly startMs: number;
  readonly method: string;
  readonly scheme: string;
  /** Authority as addressed (absolute-form URL host, else the Host header), lower case. */
  readonly authority: string;
  /** Port the request was addressed to: from the authority, else the listener's (inbound) or 80. */
  readonly port: number;
  /** `:path` with query. */
  readonly path: string;
  /** Length of the path without its query. */
  readonly pathLength: number;
  /** Request headers as forwarded upstream; filters and header operations edit them in place. */
  readonly headers: IncomingHttpHeaders;
  private query: Map<string, string> | undefined;

  // Router decisions.
  route: CompiledRoute | null = null;
  /** Which `match[]` alternative of the route held (rewrites of the matched prefix read it). */
  matchIndex = -1;
  destination: CompiledDestination | null = null;
  cluster: RuntimeCluster | null = null;
  upstreamHost: UpstreamHost | null = null;
  /** The upstream request in flight, if any (aborted when the client goes away). */
  upstream: UpstreamRequest | null = null;
  /** A `set-cookie` the consistent-hash policy generated (Envoy's cookie with ttl). */
  setCookie: string | null = null;

  // Outcome.
  status = 0;
  /** The upstream response's content-length (-1: none, chunked or local reply). */
  responseContentLength = -1;
  responseFlag: string = ResponseFlag.None;
  details = '';
  completed = false;
  /** Next filter to run (the filter chain's cursor). */
  filterIndex = 0;
  /** The client speaks h2c (`req`/`res` are node:http2's compatibility objects): trailers can go downstream. */
  h2 = false;
  /** Inbound: the calling workload, from the peer metadata its sidecar sent (null: unknown). Set by telemetry's peer metadata filter. */
  peer: WorkloadIdentity | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly listener: ListenerRuntime,
    readonly config: CompiledSnapshot,
    nowMs: number,
  ) {
    this.startMs = nowMs;
    this.method = req.method ?? 'GET';
    this.headers = req.headers;
    const url = req.url ?? '/';
    let authority: string;
    let path: string;
    let scheme = 'http';
    if (url.charCodeAt(0) === 47 /* '/' */) {
      path = url;
      authority = this.headers.host ?? '';
    } else {
      // Absolute form, as HTTP_PROXY clients send: `http://reviews:9080/path`.
      const sep = url.indexOf('://');
      if (sep > 0) {
        scheme = url.slice(0, sep).toLowerCase();
        const slash = url.indexOf('/', sep + 3);
        authority = slash < 0 ? url.slice(sep + 3) : url.slice(sep + 3, slash);
        path = slash < 0 ? '/' : url.slice(slash);
      } else {
        authority = this.headers.host ?? '';
        path = url; // `*` (OPTIONS) and other oddities: routed as given
      }
    }
    this.scheme = scheme;
    this.authority = authority.toLowerCase();
    this.path = path;
    const q = path.indexOf('?');
    this.pathLength = q < 0 ? path.length : q;
    this.port = portOf(this.authority, listener.def.direction === 'inbound' ? listener.def.port : scheme === 'https' ? 443 : 80);
  }

  /** First value of a query parameter as written (Envoy matches undecoded values), or undefined. */
  queryParam(name: string): string | undefined {
    if (this.query === undefined) this.query = parseQuery(this.path, this.pathLength);
    return this.query.get(name);
  }

  get remoteAddress(): string {
    return this.req.socket.remoteAddress ?? '';
  }
}

function portOf(authority: string, fallback: number): number {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.indexOf(']', colon) >= 0) return fallback;
  const n = Number(authority.slice(colon + 1));
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function parseQuery(path: string, pathLength: number): Map<string, string> {
  const out = new Map<string, string>();
  if (pathLength >= path.length) return out;
  let end = path.indexOf('#', pathLength);
  if (end < 0) end = path.length;
  for (const part of path.slice(pathLength + 1, end).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (!out.has(k)) out.set(k, eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/** The host part of an authority (no port), for `-shadow` and redirects. */
export function splitAuthority(authority: string): { host: string; port: string } {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.indexOf(']', colon) >= 0) return { host: authority, port: '' };
  return { host: authority.slice(0, colon), port: authority.slice(colon) };
}
