import type { Resource } from '../../api/resource.js';
import { namespaceOf } from '../../api/resource.js';
import { resolveHost, hostCovers } from './hosts.js';
import { appliesToSidecars } from './http-routes.js';
import type { NodeContext } from './node-context.js';
import { isVisible, specExportTo } from './visibility.js';

// Which VirtualService routes a host for one proxy: those exported to the proxy's namespace
// that apply to sidecars (`gateways` empty or naming `mesh`), hosts resolved in the rule's
// namespace. A rule naming the host exactly wins over a wildcard one; otherwise the first in
// Istio's order (oldest first) wins, as istiod keeps the first virtual host for a domain.

export interface SidecarVirtualService {
  vs: Resource;
  hosts: string[]; // resolved: `reviews` in bookinfo -> reviews.bookinfo.svc.cluster.local
}

export function sidecarVirtualServices(ctx: NodeContext): SidecarVirtualService[] {
  return ctx.view.virtualServices
    .filter((vs) => appliesToSidecars(vs) && isVisible(specExportTo(vs.spec), namespaceOf(vs), ctx.node.namespace))
    .map((vs) => ({ vs, hosts: (Array.isArray(vs.spec?.hosts) ? vs.spec.hosts : []).map((h: string) => resolveHost(String(h), namespaceOf(vs))) }));
}

export function virtualServiceForHost(list: readonly SidecarVirtualService[], hostname: string): SidecarVirtualService | undefined {
  const exact = list.find((x) => x.hosts.includes(hostname));
  if (exact) return exact;
  let best: { x: SidecarVirtualService; len: number } | undefined;
  for (const x of list) {
    for (const h of x.hosts) {
      // The most specific wildcard covering the host; earlier rules win ties.
      if (h.startsWith('*') && hostCovers(h, hostname) && (!best || h.length > best.len)) best = { x, len: h.length };
    }
  }
  return best?.x;
}
