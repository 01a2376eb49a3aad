import type { DirectResponseAction, ProxyNode, RedirectAction, Route, RouteConfig } from '../../api/snapshot.js';
import type { RandomSource } from '../clock.js';
import type { HttpStream } from '../http-stream.js';
import { compileRetryPolicy, type RetryPolicy } from '../router/retry-policy.js';
import { compileHeaderOps, type CompiledHeaderOps } from './header-operations.js';
import { compileGlobal, translateSubstitution } from './regex.js';
import { compileRouteMatch, type CompiledMatch } from './route-match.js';
import { VirtualHostSelector } from './virtual-hosts.js';

// A RouteConfig compiled once per snapshot: domain lookup tables and routes whose matches are
// predicates, whose weights are cumulative and whose rewrites are ready to apply.

export interface CompiledDestination {
  cluster: string;
  requestOps: CompiledHeaderOps | null;
  responseOps: CompiledHeaderOps | null;
}

export interface CompiledRoute {
  name: string;
  origin: string | undefined;
  virtualHost: string;
  /** Alternatives (OR); empty = matches everything. */
  matches: CompiledMatch[];
  kind: 'route' | 'redirect' | 'direct';
  destinations: CompiledDestination[];
  /** Cumulative weights, parallel to destinations. */
  cumulative: number[];
  totalWeight: number;
  prefixRewrite: string | undefined;
  regexRewrite: { re: RegExp; substitution: string } | undefined;
  authorityRewrite: string | undefined;
  mirror: { cluster: string; percentage: number } | undefined;
  requestOps: CompiledHeaderOps | null;
  responseOps: CompiledHeaderOps | null;
  redirect: RedirectAction | undefined;
  direct: { status: number; body: Buffer } | undefined;
  /** Istio's route `timeout` in ms, from the upstream request's start to the response's end; 0: none. */
  timeoutMs: number;
  /** Istio's `retries` (or its default policy when the route has none); null: no retries. */
  retry: RetryPolicy | null;
  /** The route as the snapshot gave it (later filters read their fields: timeoutMs, retries, fault). */
  def: Route;
}

interface CompiledVirtualHost {
  name: string;
  routes: CompiledRoute[];
}

export class RouteTable {
  private readonly hosts = new VirtualHostSelector<CompiledVirtualHost>();

  constructor(readonly name: string, rc: RouteConfig, node: ProxyNode) {
    for (const vh of rc.virtualHosts) {
      const compiled: CompiledVirtualHost = { name: vh.name, routes: [] };
      for (const r of vh.routes) {
        const route = compileRoute(r, vh.name, node);
        if (route) compiled.routes.push(route);
      }
      for (const d of vh.domains) this.hosts.add(d, compiled);
    }
    this.hosts.seal();
  }

  /** The first route that matches (and records which alternative held), or null: no virtual host or no route (NR). */
  select(s: HttpStream): CompiledRoute | null {
    const vh = this.hosts.select(s.authority);
    if (!vh) return null;
    const routes = vh.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      const ms = r.matches;
      if (ms.length === 0) {
        s.matchIndex = -1;
        return r;
      }
      for (let j = 0; j < ms.length; j++) {
        if (ms[j].test(s)) {
          s.matchIndex = j;
          return r;
        }
      }
    }
    return null;
  }
}

/** Picks a destination by weight (Envoy's weighted clusters). */
export function pickDestination(r: CompiledRoute, random: RandomSource): CompiledDestination {
  const d = r.destinations;
  if (d.length === 1) return d[0];
  const x = random() * r.totalWeight;
  const c = r.cumulative;
  for (let i = 0; i < c.length; i++) if (x < c[i]) return d[i];
  return d[d.length - 1];
}

/** A single catch-all route to one cluster: inbound listeners without a route config. */
export function catchAllRouteConfig(name: string, cluster: string): RouteConfig {
  return {
    name,
    virtualHosts: [{ name: 'inbound|http', domains: ['*'], routes: [{ name: 'default', match: [], action: { kind: 'route', destinations: [{ cluster, weight: 100 }] } }] }],
  };
}

function compileRoute(r: Route, virtualHost: string, node: ProxyNode): CompiledRoute | null {
  const matches: CompiledMatch[] = [];
  for (const m of r.match) {
    const c = compileRouteMatch(m, node);
    if (c) matches.push(c);
  }
  // Every alternative is for another caller (sourceLabels/sourceNamespace): istiod would not send the route.
  if (r.match.length > 0 && matches.length === 0) return null;
  const out: CompiledRoute = {
    name: r.name,
    origin: r.origin,
    virtualHost,
    matches,
    kind: r.action.kind,
    destinations: [],
    cumulative: [],
    totalWeight: 0,
    prefixRewrite: undefined,
    regexRewrite: undefined,
    authorityRewrite: undefined,
    mirror: undefined,
    requestOps: compileHeaderOps(r.headers?.request),
    responseOps: compileHeaderOps(r.headers?.response),
    redirect: undefined,
    direct: undefined,
    timeoutMs: 0,
    retry: null,
    def: r,
  };
  const a = r.action;
  if (a.kind === 'redirect') out.redirect = a;
  else if (a.kind === 'direct') out.direct = compileDirect(a);
  else {
    // Zero-weight destinations never receive traffic when others exist (istiod drops them).
    const dests = a.destinations.length > 1 ? a.destinations.filter((d) => d.weight > 0) : a.destinations;
    let total = 0;
    for (const d of dests) {
      out.destinations.push({ cluster: d.cluster, requestOps: compileHeaderOps(d.headers?.request), responseOps: compileHeaderOps(d.headers?.response) });
      total += dests.length === 1 ? 1 : d.weight;
      out.cumulative.push(total);
    }
    out.totalWeight = total;
    if (a.rewrite?.uriRegexRewrite) {
      out.regexRewrite = { re: compileGlobal(a.rewrite.uriRegexRewrite.match), substitution: translateSubstitution(a.rewrite.uriRegexRewrite.rewrite) };
    } else if (a.rewrite?.uri !== undefined && a.rewrite.uri !== '') out.prefixRewrite = a.rewrite.uri;
    // Route-level authority (rewrite, then a header `set host`) wins over a destination's.
    out.authorityRewrite = a.rewrite?.authority || out.requestOps?.authority;
    // Absent or 0 disables the timeout, as in Envoy.
    const t = a.timeoutMs;
    if (typeof t === 'number' && Number.isFinite(t) && t > 0) out.timeoutMs = t;
    out.retry = compileRetryPolicy(a.retries);
    if (a.mirror && a.mirror.percentage > 0) out.mirror = { cluster: a.mirror.cluster, percentage: a.mirror.percentage };
  }
  return out;
}

function compileDirect(a: DirectResponseAction): { status: number; body: Buffer } {
  return { status: a.status, body: Buffer.from(a.body ?? '') };
}

