import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import { gatewaySelector, podsSelectedBy, selectorPath, selectorString, serverPort, servers } from './util.js';

// A Gateway only programs the proxy pods it selects; traffic reaches those pods through a
// Kubernetes Service. A Gateway that selects no pod does nothing, and a server port that no
// Service in front of the pods exposes is unreachable from outside. Flags both.

/** A Service port's targetPort as a number; named or absent targetPorts give 0. */
function numericTargetPort(port: any): number {
  const tp = port?.targetPort;
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^\d+$/.test(tp)) return Number(tp);
  return 0;
}

/**
 * Ports by which TCP traffic can reach the pod through the Services that select it. Both the
 * Service port and its targetPort count: Istio translates a gateway server port that matches a
 * Service port into that port's targetPort, and a server port equal to a targetPort is the
 * port the proxy listens on.
 */
function reachablePorts(pod: Resource, services: readonly Resource[], into: Set<number>): void {
  for (const svc of services) {
    // A Service selects pods only in its own namespace.
    if (namespaceOf(svc) !== namespaceOf(pod)) continue;
    if (!selectorMatches(svc.spec?.selector, pod.metadata.labels)) continue;
    for (const port of svc.spec?.ports ?? []) {
      // Kubernetes defaults a port's protocol to TCP.
      if ((port?.protocol ?? 'TCP') !== 'TCP') continue;
      if (typeof port.port === 'number') into.add(port.port);
      const tp = numericTargetPort(port);
      if (tp !== 0) into.add(tp);
    }
  }
}

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: 'Finds gateways with no workload, or with ports their workload Service does not expose',
  inputs: ['Gateway', 'Pod', 'Service'],
  codes: ['IST0101', 'IST0162'],
  analyze(ctx) {
    const pods = ctx.list('Pod');
    const services = ctx.list('Service');
    for (const gw of ctx.list('Gateway')) {
      const selector = gatewaySelector(gw);
      const sel = selectorString(selector);
      const path = selectorPath(selector);
      const selected = podsSelectedBy(pods, selector);
      if (selected.length === 0) {
        ctx.report(newMessage('IST0101', gw, ['selector', sel], path));
        continue;
      }
      // With several Services in front of the pods, a port exposed by any of them is enough.
      const ports = new Set<number>();
      for (const pod of selected) reachablePorts(pod, services, ports);
      for (const server of servers(gw)) {
        if (server?.port == null) continue;
        const n = serverPort(server);
        if (!ports.has(n)) ctx.report(newMessage('IST0162', gw, [n, sel], path));
      }
    }
  },
};
