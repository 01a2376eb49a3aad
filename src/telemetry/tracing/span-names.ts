import type { ProxyNode, Route, RouteMatch } from '../../api/snapshot.js';

// Span names as Istio names them: each route gets Envoy's decorator operation (Istio's
// `getRouteOperation`): `<host>:<port><path>` when the route goes to one cluster (host and port
// from the cluster name `outbound|<port>|<subset>|<host>`), else `<virtualservice>:<port><path>`,
// where the path is the matched `uri`: an exact path as is, a prefix followed by `*`, a regex
// as written, and `/*` when the match names no uri. Default routes get `<host>:<port>/*`.
// The client's sidecar sends its operation upstream in `x-envoy-decorator-operation`, and the
// server's sidecar names its span by it (Envoy's ingress behaviour); without the header the
// server names its span after its own service and port.

export const DECORATOR_HEADER = 'x-envoy-decorator-operation';

/** Path parts by compiled match index (the alternatives this node keeps), per route. */
const pathParts = new WeakMap<Route, string[]>();
/** `<host>:<port>` of the single destination, or null when the route has several (or none). */
const singleClusterTargets = new WeakMap<Route, string | null>();

/**
 * The route's operation. `matchIndex` is the index among the alternatives the proxy compiled
 * (those whose source conditions hold for `node`), -1 for a route that matches everything.
 */
export function routeOperation(route: Route, matchIndex: number, port: number, node: ProxyNode): string {
  let paths = pathParts.get(route);
  if (paths === undefined) {
    paths = route.match.filter((m) => keptFor(m, node)).map(pathOf);
    pathParts.set(route, paths);
  }
  const path = matchIndex >= 0 && matchIndex < paths.length ? paths[matchIndex] : '/*';
  let target = singleClusterTargets.get(route);
  if (target === undefined) {
    target = singleTarget(route);
    singleClusterTargets.set(route, target);
  }
  if (target !== null) return `${target}${path}`;
  return `${virtualServiceName(route)}:${port}${path}`;
}

/** The server span's name when the caller sent no operation: the service's host and port (Istio's inbound decorator). */
export function inboundOperation(service: string, namespace: string, port: number): string {
  return `${service}.${namespace}.svc.cluster.local:${port}/*`;
}

/** A request no route took (NR): named after what it asked for. */
export function unroutedOperation(authority: string, port: number): string {
  const colon = authority.lastIndexOf(':');
  const host = colon > 0 && authority.indexOf(']', colon) < 0 ? authority.slice(0, colon) : authority;
  return `${host}:${port}/*`;
}

function pathOf(m: RouteMatch): string {
  const uri = m.uri;
  if (!uri) return '/*';
  if ('exact' in uri) return uri.exact;
  if ('prefix' in uri) return `${uri.prefix}*`;
  return uri.regex;
}

/** The proxy compiles only the alternatives whose source conditions hold for it (route-match.ts). */
function keptFor(m: RouteMatch, node: ProxyNode): boolean {
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== node.namespace) return false;
  if (m.sourceLabels) for (const [k, v] of Object.entries(m.sourceLabels)) if (node.labels[k] !== v) return false;
  return true;
}

function singleTarget(route: Route): string | null {
  if (route.action.kind !== 'route' || route.action.destinations.length !== 1) return null;
  const parts = route.action.destinations[0].cluster.split('|');
  if (parts.length !== 4 || parts[3] === '') return null;
  return `${parts[3]}:${parts[1]}`;
}

/** From the route's origin `VirtualService <ns>/<name>`, else the route's name. */
function virtualServiceName(route: Route): string {
  const origin = route.origin ?? '';
  const m = /^VirtualService [^/]+\/(.+)$/.exec(origin);
  return m ? m[1] : route.name;
}
