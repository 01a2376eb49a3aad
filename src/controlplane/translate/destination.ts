import { clusterName, resolveHost } from './hosts.js';
import type { NodeContext } from './node-context.js';

// Istio's GetDestinationCluster: which cluster a route destination names. The port is the one
// written, else the service's only port, else the port of the listener / virtual host the route
// is built for. A destination whose service or subset does not exist still names a cluster: the
// proxy answers 503 NC for it, as Envoy does for a missing cluster.

export interface Destination {
  host: string;
  subset?: string;
  port?: { number?: number };
}

export function destinationCluster(ctx: NodeContext, dest: Destination, ruleNamespace: string, listenerPort: number): string {
  const host = resolveHost(String(dest?.host ?? ''), ruleNamespace);
  const svc = ctx.servicesByHost.get(host);
  let port = listenerPort;
  if (dest?.port?.number) port = dest.port.number;
  else if (svc && svc.ports.length === 1) port = svc.ports[0].port;
  return clusterName('outbound', port, dest?.subset || undefined, host);
}

/**
 * Weights as the proxy wants them: adding up to 100. One destination takes everything;
 * zero-weight destinations are dropped when there are others (as Istio does); the rest are
 * scaled by largest remainder so integer weights keep their proportions.
 */
export function normalizeWeights<T extends { weight: number }>(dests: T[]): T[] {
  if (dests.length === 1) return [{ ...dests[0], weight: 100 }];
  let kept = dests.filter((d) => d.weight > 0);
  if (kept.length === 0) kept = dests.map((d) => ({ ...d, weight: 1 })); // no weights at all: share equally
  const total = kept.reduce((s, d) => s + d.weight, 0);
  if (total === 100) return kept;
  const exact = kept.map((d) => (d.weight * 100) / total);
  const floors = exact.map(Math.floor);
  let left = 100 - floors.reduce((s, x) => s + x, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]++;
    left--;
  }
  return kept.map((d, i) => ({ ...d, weight: floors[i] })).filter((d) => d.weight > 0);
}
