import type { Cluster, ClusterLoadAssignment, Endpoint, Listener, RouteConfig } from '../../api/snapshot.js';
import { clusterProtocol } from '../port-protocol.js';
import { clusterName } from './hosts.js';
import type { NodeContext } from './node-context.js';
import { inboundService } from './telemetry-inbound-service.js';
import { inboundMtls } from './security.js';

const withMtls = (mtls: Listener['mtls']) => (mtls ? { mtls } : {});

// The inbound side of a proxy: one listener per port its instance serves, on the instance's
// own address, forwarding to the application (its unix socket, or host:port) through the
// cluster `inbound|<port>||`. HTTP ports get a route config so later filters (authz,
// telemetry, fault) have a place; TCP ports go straight to the cluster. The application endpoint
// is always healthy here: the sidecar learns it is down by failing to connect (503 UF).

export interface InboundConfig {
  listeners: Listener[];
  routes: RouteConfig[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
}

export function inboundConfig(ctx: NodeContext): InboundConfig {
  const out: InboundConfig = { listeners: [], routes: [], clusters: [], endpoints: [] };
  const inst = ctx.instance;
  for (const p of [...inst.ports].sort((a, b) => a.port - b.port)) {
    const cluster = clusterName('inbound', p.port, undefined, '');
    const name = `inbound_${p.port}`;
    const tcp = p.protocol === 'tcp';
    out.listeners.push({
      name,
      direction: 'inbound',
      address: inst.address,
      port: p.port,
      protocol: tcp ? 'tcp' : 'http',
      ...(tcp ? { tcpCluster: cluster } : { routeConfigName: name }),
      ...(p.protocol === 'http2' || p.protocol === 'grpc' ? { acceptsHttp2: true } : {}),
      ...withMtls(inboundMtls(ctx, p.port, p.protocol)),
    });
    if (!tcp) {
      out.routes.push({
        name,
        virtualHosts: [
          {
            name: `inbound|http|${p.port}`,
            domains: ['*'],
            routes: [{ name: 'default', match: [], action: { kind: 'route', destinations: [{ cluster, weight: 100 }] }, origin: 'default' }],
          },
        ],
      });
    }
    const service = inboundService(ctx, p.port); // Istio's inbound cluster metadata: telemetry's destination_service
    out.clusters.push({ name: cluster, direction: 'inbound', ...(service && { service }), port: p.port, protocol: clusterProtocol(p.protocol), lbPolicy: 'LEAST_REQUEST' });
    const app: Endpoint =
      'socketPath' in p.app
        ? { address: '', port: 0, socketPath: p.app.socketPath, instance: inst.name, labels: { ...inst.labels }, healthy: true }
        : { address: p.app.host, port: p.app.port, instance: inst.name, labels: { ...inst.labels }, healthy: true };
    out.endpoints.push({ clusterName: cluster, endpoints: [app] });
  }
  return out;
}
