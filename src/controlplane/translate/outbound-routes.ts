import type { Route, RouteConfig, VirtualHost } from '../../api/snapshot.js';
import { friendlyName } from '../../api/resource.js';
import { isHttpProtocol } from '../port-protocol.js';
import type { MeshService, ServicePort } from '../services.js';
import { clusterName, hostCovers, virtualHostDomains } from './hosts.js';
import { httpRoutes } from './http-routes.js';
import type { NodeContext } from './node-context.js';
import { virtualServiceForHost, type SidecarVirtualService } from './virtual-service-selection.js';

// The route configuration of the outbound HTTP listener (`outbound_http`): a virtual host per
// visible (service, HTTP port), routed by the VirtualService that owns the host or by a default
// route to the service's cluster, plus a virtual host per VirtualService host that names no
// service (its clusters do not exist: the proxy answers 503 NC, as Envoy does). Each domain
// belongs to one virtual host: the first to claim it keeps it, as istiod dedupes domains.

export const OUTBOUND_ROUTE_CONFIG = 'outbound_http';
/** The port an authority without a port means, and so the port of hosts that name no service. */
const DEFAULT_HTTP_PORT = 80;

export function outboundRouteConfig(ctx: NodeContext, vses: readonly SidecarVirtualService[]): RouteConfig {
  const claimed = new Set<string>();
  const virtualHosts: VirtualHost[] = [];
  const add = (name: string, domains: string[], routes: Route[], origin: string) => {
    const own = domains.filter((d) => !claimed.has(d));
    if (own.length < domains.length) {
      ctx.notes.add(origin, `virtual host ${name}: domains ${domains.filter((d) => claimed.has(d)).join(', ')} already belong to another virtual host`);
    }
    if (own.length === 0) return;
    for (const d of own) claimed.add(d);
    virtualHosts.push({ name, domains: own, routes });
  };
  for (const svc of ctx.services) {
    const owner = virtualServiceForHost(vses, svc.hostname);
    for (const port of svc.ports) {
      if (!isHttpProtocol(port.protocol)) continue;
      let routes = owner ? httpRoutes(ctx, owner.vs, port.port) : [];
      // A VirtualService with no route for this port leaves the port to the default route, as istiod does.
      if (routes.length === 0) routes = [defaultRoute(svc, port)];
      add(`${svc.hostname}:${port.port}`, virtualHostDomains(svc.hostname, port.port, ctx.node.namespace), routes, owner ? friendlyName(owner.vs) : svc.origin);
    }
  }
  for (const { vs, hosts } of vses) {
    for (const host of hosts) {
      if (ctx.services.some((s) => hostCovers(host, s.hostname))) continue;
      const routes = httpRoutes(ctx, vs, DEFAULT_HTTP_PORT);
      if (routes.length === 0) continue;
      const domains = host.startsWith('*') ? [host, `${host}:${DEFAULT_HTTP_PORT}`] : virtualHostDomains(host, DEFAULT_HTTP_PORT, ctx.node.namespace);
      add(`${host}:${DEFAULT_HTTP_PORT}`, domains, routes, friendlyName(vs));
    }
  }
  virtualHosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { name: OUTBOUND_ROUTE_CONFIG, virtualHosts };
}

/** istiod's default route: everything to the service port's cluster. */
export function defaultRoute(svc: MeshService, port: ServicePort): Route {
  return {
    name: 'default',
    match: [],
    action: { kind: 'route', destinations: [{ cluster: clusterName('outbound', port.port, undefined, svc.hostname), weight: 100 }] },
    origin: 'default',
  };
}
