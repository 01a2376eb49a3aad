import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { HttpStream } from '../http-stream.js';
import { sendLocalReply } from '../router/local-reply.js';
import { ResponseFlag } from '../response-flags.js';
import { CompiledAuthorization, type AuthzRequest } from '../../security/authz/compiled-policies.js';
import { connectionSecurity } from '../tls/peer-identity.js';
import { Continue, Stop, type FilterStatus, type HttpFilter, type HttpFilterFactory } from './http-filter.js';

// Istio's RBAC filter on inbound HTTP listeners: the AuthorizationPolicies that select this
// workload, compiled when the snapshot arrives (the chain is rebuilt per snapshot), evaluated
// per request over its facts (peer principal from mutual TLS, source address, method, host,
// path, port, headers). A denial answers as Envoy's: 403, body `RBAC: access denied`, no
// response flag, details `rbac_access_denied_matched_policy[<policy rule or none>]`; it counts
// in `rbac.denied` and, like any local reply, in Istio's metrics and the access log.

const DENIED_BODY = 'RBAC: access denied';

/** The downstream connection of a stream (an h2 stream's is its session's). */
export function downstreamSocket(s: HttpStream): Socket | undefined {
  if (s.h2) return (s.req as unknown as Http2ServerRequest).stream?.session?.socket as Socket | undefined;
  return s.req.socket;
}

/** One request's facts, read on demand (one object per request, only where policies apply). */
class StreamFacts implements AuthzRequest {
  readonly principal: string;
  constructor(
    private readonly s: HttpStream,
    socket: Socket | undefined,
  ) {
    this.principal = connectionSecurity(socket)?.principal ?? '';
  }
  get sourceIp(): string {
    return this.s.remoteAddress;
  }
  get destinationIp(): string {
    return this.s.req.socket?.localAddress ?? this.s.listener.def.address;
  }
  get destinationPort(): number {
    return this.s.listener.def.port;
  }
  get method(): string {
    return this.s.method;
  }
  get host(): string {
    return this.s.authority;
  }
  get path(): string {
    return this.s.path.slice(0, this.s.pathLength);
  }
  header(name: string): string | undefined {
    const v = this.s.headers[name];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
  }
  get requestPrincipal(): string {
    return requestAuthOf(this.s)?.principal ?? '';
  }
  claim(path: readonly string[]): string[] | undefined {
    return requestAuthOf(this.s)?.claim(path);
  }
  get sni(): string {
    return '';
  }
}

/** What RequestAuthentication established for a stream (set by the JWT filter when it exists). */
export interface RequestAuth {
  principal: string;
  claim(path: readonly string[]): string[] | undefined;
}

const REQUEST_AUTH = Symbol('meshmedic.requestAuth');
type WithAuth = HttpStream & { [REQUEST_AUTH]?: RequestAuth };

export function setRequestAuth(s: HttpStream, auth: RequestAuth): void {
  (s as WithAuth)[REQUEST_AUTH] = auth;
}

export function requestAuthOf(s: HttpStream): RequestAuth | undefined {
  return (s as WithAuth)[REQUEST_AUTH];
}

class RbacFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.rbac';
  constructor(
    private readonly authz: CompiledAuthorization,
    private readonly stats: { inc(name: string, by?: number): void },
  ) {}

  onRequest(s: HttpStream): FilterStatus {
    const d = this.authz.evaluate(new StreamFacts(s, downstreamSocket(s)));
    if (d.audited) this.stats.inc('rbac.audited');
    if (d.allowed) {
      this.stats.inc('rbac.allowed');
      return Continue;
    }
    this.stats.inc('rbac.denied');
    sendLocalReply(s, { status: 403, flag: ResponseFlag.None, details: `rbac_access_denied_matched_policy[${d.matched}]`, body: DENIED_BODY });
    return Stop;
  }
}

/** Inbound listeners of a proxy with AuthorizationPolicies get the filter; the others pay nothing. */
export const rbacFilter: HttpFilterFactory = (listener, ctx) => {
  if (listener.direction !== 'inbound') return null;
  const policies = ctx.current?.snapshot.authorization?.policies;
  if (!policies || policies.length === 0) return null;
  const compiled = new CompiledAuthorization(policies);
  if (compiled.unsupported.length) ctx.log(`rbac: condition keys not supported, they never match: ${[...new Set(compiled.unsupported)].join(', ')}`);
  return new RbacFilter(compiled, ctx.stats);
};
