import { OUTBOUND_HTTP_PORT, PROXY_ADMIN_PORT, PROXY_STATS_PORT, type Listener, type ProxySnapshot, type WorkloadInstance } from '../../api/snapshot.js';
import { createHash } from 'node:crypto';
import { outboundClusters } from './clusters.js';
import { inboundConfig } from './inbound.js';
import type { MeshView } from './mesh-view.js';
import { nodeContext } from './node-context.js';
import { Notes } from './notes.js';
import { OUTBOUND_ROUTE_CONFIG, outboundRouteConfig } from './outbound-routes.js';
import { outboundTcpListeners } from './outbound-tcp.js';
import { sidecarVirtualServices } from './virtual-service-selection.js';
import { telemetrySettings } from './telemetry.js';
import { authorizationSettings, requestAuthenticationSettings } from './security.js';

const withAuthorization = (authorization: ProxySnapshot['authorization']) => (authorization ? { authorization } : {});
const withRequestAuthentication = (requestAuthentication: ProxySnapshot['requestAuthentication']) => (requestAuthentication ? { requestAuthentication } : {});

// One proxy's snapshot from the mesh view: inbound side, the outbound HTTP listener and its
// route config, outbound TCP listeners, clusters and endpoints. Everything is sorted, so the
// same state gives the same snapshot; `version` is a hash of the content (the control plane
// turns it into an increasing version).

export interface Translation {
  snapshot: ProxySnapshot;
  notes: string[];
}

export function buildSnapshot(view: MeshView, instance: WorkloadInstance): Translation {
  const notes = new Notes();
  const ctx = nodeContext(view, instance, notes);
  for (const kind of view.unusedKinds) notes.add(kind, `resources of this kind are stored but not implemented by the local mesh yet; they have no effect on proxies`);
  const vses = sidecarVirtualServices(ctx);
  const inbound = inboundConfig(ctx);
  for (const l of inbound.listeners) {
    if (l.port === OUTBOUND_HTTP_PORT || l.port === PROXY_ADMIN_PORT || l.port === PROXY_STATS_PORT) {
      notes.add(`instance ${instance.namespace}/${instance.name}`, `port ${l.port} is the sidecar's own (${OUTBOUND_HTTP_PORT} outbound, ${PROXY_ADMIN_PORT} admin, ${PROXY_STATS_PORT} metrics); its inbound listener collides`);
    }
  }
  const reserved = new Set([OUTBOUND_HTTP_PORT, PROXY_ADMIN_PORT, PROXY_STATS_PORT, ...inbound.listeners.map((l) => l.port)]);
  const outboundHttp: Listener = {
    name: `outbound_http_${OUTBOUND_HTTP_PORT}`,
    direction: 'outbound',
    address: ctx.node.address,
    port: OUTBOUND_HTTP_PORT,
    protocol: 'http',
    routeConfigName: OUTBOUND_ROUTE_CONFIG,
  };
  const outbound = outboundClusters(ctx);
  const body = {
    node: ctx.node,
    listeners: byName([...inbound.listeners, outboundHttp, ...outboundTcpListeners(ctx, vses, reserved)]),
    routes: byName([...inbound.routes, outboundRouteConfig(ctx, vses)]),
    clusters: byName([...inbound.clusters, ...outbound.clusters]),
    endpoints: [...inbound.endpoints, ...outbound.endpoints].sort((a, b) => cmp(a.clusterName, b.clusterName)),
    telemetry: telemetrySettings(ctx),
    ...withAuthorization(authorizationSettings(ctx)),
    ...withRequestAuthentication(requestAuthenticationSettings(ctx)),
  };
  // Translation is deterministic (same state, same objects in the same order), so plain JSON
  // text is a faithful fingerprint; canonical key sorting would cost more than the translation.
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 12);
  return { snapshot: { version, ...body }, notes: notes.list() };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function byName<T extends { name: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => cmp(a.name, b.name));
}
