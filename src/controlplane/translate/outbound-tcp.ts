import type { Listener } from '../../api/snapshot.js';
import { friendlyName, namespaceOf } from '../../api/resource.js';
import type { MeshService, ServicePort } from '../services.js';
import { destinationCluster, normalizeWeights } from './destination.js';
import { clusterName } from './hosts.js';
import type { NodeContext } from './node-context.js';
import { matchApplies } from './route-match.js';
import { virtualServiceForHost, type SidecarVirtualService } from './virtual-service-selection.js';

// Outbound TCP: one listener `outbound_tcp_<port>` on the proxy's own address per TCP service
// port it sees, sending every connection to one cluster: the first VirtualService `tcp` route
// that holds for this proxy and port, else the service's own cluster. The proxy has one
// address, so two TCP services on one port cannot both have a listener: the first (by host
// name) keeps the port and the conflict is reported (Istio would give each its own VIP).

export function outboundTcpListeners(ctx: NodeContext, vses: readonly SidecarVirtualService[], reservedPorts: ReadonlySet<number>): Listener[] {
  const taken = new Map<number, string>();
  const out: Listener[] = [];
  for (const svc of ctx.services) {
    for (const port of svc.ports) {
      if (port.protocol !== 'tcp') continue;
      if (reservedPorts.has(port.port)) {
        ctx.notes.add(svc.origin, `TCP port ${port.port}: the proxy ${ctx.node.id} already uses ${ctx.node.address}:${port.port}; no outbound listener for ${svc.hostname}`);
        continue;
      }
      const holder = taken.get(port.port);
      if (holder) {
        ctx.notes.add(svc.origin, `TCP port ${port.port} is also served by ${holder}; the proxy ${ctx.node.id} sends ${ctx.node.address}:${port.port} to ${holder}`);
        continue;
      }
      taken.set(port.port, svc.hostname);
      out.push({
        name: `outbound_tcp_${port.port}`,
        direction: 'outbound',
        address: ctx.node.address,
        port: port.port,
        protocol: 'tcp',
        tcpCluster: tcpCluster(ctx, virtualServiceForHost(vses, svc.hostname), svc, port),
      });
    }
  }
  return out;
}

function tcpCluster(ctx: NodeContext, owner: SidecarVirtualService | undefined, svc: MeshService, port: ServicePort): string {
  const fallback = clusterName('outbound', port.port, undefined, svc.hostname);
  if (!owner) return fallback;
  const vs = owner.vs;
  const origin = friendlyName(vs);
  if (Array.isArray(vs.spec?.tls) && vs.spec.tls.length) ctx.notes.add(origin, 'tls routes are not implemented yet; ignored');
  const scope = { labels: ctx.node.labels, namespace: ctx.node.namespace, port: port.port, vsGateways: Array.isArray(vs.spec?.gateways) ? vs.spec.gateways : [] };
  const tcp: any[] = Array.isArray(vs.spec?.tcp) ? vs.spec.tcp : [];
  for (let i = 0; i < tcp.length; i++) {
    const matches: any[] = Array.isArray(tcp[i]?.match) ? tcp[i].match : [];
    if (matches.length && !matches.some((m) => matchApplies(m, scope))) continue;
    if (matches.some((m) => Array.isArray(m?.destinationSubnets) && m.destinationSubnets.length)) {
      ctx.notes.add(`${origin} tcp[${i}]`, 'match.destinationSubnets is not implemented yet; the match is taken as holding');
    }
    const written: any[] = Array.isArray(tcp[i]?.route) ? tcp[i].route : [];
    const dests = normalizeWeights(written.map((d) => ({ cluster: destinationCluster(ctx, d.destination, namespaceOf(vs), port.port), weight: Number(d.weight ?? 0) })));
    if (dests.length === 0) continue;
    const chosen = dests.reduce((a, b) => (b.weight > a.weight ? b : a));
    if (dests.length > 1) ctx.notes.add(`${origin} tcp[${i}]`, `weighted TCP destinations are not implemented yet; all connections go to ${chosen.cluster}`);
    return chosen.cluster;
  }
  return fallback;
}
