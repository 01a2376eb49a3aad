import type { HeaderOperations, Route, RouteAction, WeightedCluster } from '../../api/snapshot.js';
import { friendlyName, namespaceOf, type Resource } from '../../api/resource.js';
import { destinationCluster, normalizeWeights } from './destination.js';
import { durationMs } from '../../util/duration.js';
import type { NodeContext } from './node-context.js';
import { matchApplies, toRouteMatch, type MatchScope } from './route-match.js';

// A VirtualService's `http[]` -> the ordered routes of one virtual host (one service port) of one
// proxy. Order is kept (first match wins); matches that cannot hold for this proxy or port are
// dropped, and a route whose every match was dropped is dropped with them (istiod's translateRoute).

/** Fields of HTTPRoute meshmedic does not implement yet: reported, never silently ignored. */
// `timeout` (RouteAction.timeoutMs) and `retries` are enforced by the sidecar's router, `fault` by its fault-injection filter.
const UNIMPLEMENTED_ROUTE_FIELDS = ['corsPolicy', 'delegate'];

export function vsGateways(vs: Resource): string[] {
  return Array.isArray(vs.spec?.gateways) ? vs.spec.gateways : [];
}

/** A VirtualService applies to sidecars when it names no gateway, or names `mesh`. */
export function appliesToSidecars(vs: Resource): boolean {
  const g = vsGateways(vs);
  return g.length === 0 || g.includes('mesh');
}

export function httpRoutes(ctx: NodeContext, vs: Resource, port: number): Route[] {
  const origin = friendlyName(vs);
  const ns = namespaceOf(vs);
  const scope: MatchScope = { labels: ctx.node.labels, namespace: ctx.node.namespace, port, vsGateways: vsGateways(vs) };
  const routes: Route[] = [];
  (Array.isArray(vs.spec?.http) ? vs.spec.http : []).forEach((http: any, index: number) => {
    const where = `${origin} http[${index}]`;
    for (const f of UNIMPLEMENTED_ROUTE_FIELDS) if (http?.[f] !== undefined) ctx.notes.add(where, `${f} is not implemented yet; ignored`);
    if (http?.delegate !== undefined) return; // a delegating route has no action of its own
    const written: any[] = Array.isArray(http?.match) ? http.match : [];
    const kept = written.filter((m) => matchApplies(m, scope));
    if (written.length > 0 && kept.length === 0) return;
    const route: Route = {
      name: typeof http?.name === 'string' && http.name ? http.name : `${vs.metadata.name}.${ns}[${index}]`,
      match: kept.map((m) => toRouteMatch(m, where, ctx.notes)),
      action: routeAction(ctx, http, ns, port, where),
      origin,
    };
    const headers = headerOps(http?.headers);
    if (headers) route.headers = headers;
    routes.push(route);
  });
  return routes;
}

function routeAction(ctx: NodeContext, http: any, ns: string, port: number, where: string): Route['action'] {
  if (http?.redirect) {
    const r = http.redirect;
    if (r.derivePort !== undefined) ctx.notes.add(where, 'redirect.derivePort is not implemented yet; ignored');
    return {
      kind: 'redirect',
      ...(r.uri !== undefined && { uri: r.uri }),
      ...(r.authority !== undefined && { authority: r.authority }),
      ...(r.scheme !== undefined && { scheme: r.scheme }),
      ...(typeof r.port === 'number' && { port: r.port }),
      status: typeof r.redirectCode === 'number' && r.redirectCode ? r.redirectCode : 301,
    };
  }
  if (http?.directResponse) {
    const d = http.directResponse;
    const body = d.body?.string ?? (typeof d.body?.bytes === 'string' ? Buffer.from(d.body.bytes, 'base64').toString('utf8') : undefined);
    return { kind: 'direct', status: d.status, ...(body !== undefined && { body }) };
  }
  const written: any[] = Array.isArray(http?.route) ? http.route : [];
  const destinations = normalizeWeights(
    written.map((d): WeightedCluster => {
      const wc: WeightedCluster = { cluster: destinationCluster(ctx, d.destination, ns, port), weight: typeof d.weight === 'number' ? d.weight : 0 };
      const headers = headerOps(d.headers);
      if (headers) wc.headers = headers;
      return wc;
    }),
  );
  const action: RouteAction = { kind: 'route', destinations };
  const rw = http?.rewrite;
  if (rw && (rw.uri !== undefined || rw.authority !== undefined || rw.uriRegexRewrite)) {
    action.rewrite = {
      ...(rw.uri !== undefined && { uri: rw.uri }),
      ...(rw.authority !== undefined && { authority: rw.authority }),
      ...(rw.uriRegexRewrite && { uriRegexRewrite: { match: rw.uriRegexRewrite.match, rewrite: rw.uriRegexRewrite.rewrite } }),
    };
  }
  const mirror = mirrorOf(ctx, http, ns, port, where);
  if (mirror) action.mirror = mirror;
  const timeoutMs = durationMs(http?.timeout);
  if (timeoutMs !== undefined) action.timeoutMs = timeoutMs;
  // Carried as written: the sidecar's router reads `retries` (absent: Istio's default policy), its fault filter `fault`.
  if (http?.retries !== undefined) {
    action.retries = http.retries;
    if (http.retries?.retryRemoteLocalities !== undefined) ctx.notes.add(where, 'retries.retryRemoteLocalities is not implemented (one machine, one locality); ignored');
  }
  if (http?.fault !== undefined) action.fault = http.fault;
  return action;
}

/** `mirror` + `mirrorPercentage` (or the older `mirrorPercent`), or the first of `mirrors`. Default: every request. */
function mirrorOf(ctx: NodeContext, http: any, ns: string, port: number, where: string): RouteAction['mirror'] {
  let dest = http?.mirror;
  let pct: unknown = http?.mirrorPercentage?.value ?? http?.mirrorPercent;
  if (!dest && Array.isArray(http?.mirrors) && http.mirrors.length) {
    if (http.mirrors.length > 1) ctx.notes.add(where, `only the first of ${http.mirrors.length} mirrors is implemented; the others are ignored`);
    dest = http.mirrors[0].destination;
    pct = http.mirrors[0].percentage?.value;
  }
  if (!dest) return undefined;
  return { cluster: destinationCluster(ctx, dest, ns, port), percentage: typeof pct === 'number' ? pct : 100 };
}

function headerOps(h: any): { request?: HeaderOperations; response?: HeaderOperations } | undefined {
  if (!h || typeof h !== 'object') return undefined;
  const one = (o: any): HeaderOperations | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const out: HeaderOperations = {};
    if (o.set && Object.keys(o.set).length) out.set = { ...o.set };
    if (o.add && Object.keys(o.add).length) out.add = { ...o.add };
    if (Array.isArray(o.remove) && o.remove.length) out.remove = [...o.remove];
    return Object.keys(out).length ? out : undefined;
  };
  const request = one(h.request);
  const response = one(h.response);
  if (!request && !response) return undefined;
  return { ...(request && { request }), ...(response && { response }) };
}
