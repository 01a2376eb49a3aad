import type { Cluster, LbPolicy, ProxySnapshot, Route } from '../../src/api/snapshot.js';
import type { Sidecar } from '../../src/proxy/sidecar.js';
import type { HostOutlierState } from '../../src/proxy/upstream/outlier-detector.js';
import type { ManualClock } from '../support/manual-clock.js';
import { assignment, cluster, endpoint, outboundSnapshot, testNode, viaProxy, type ProxyResponse } from './helpers.js';

// Shared by the outlier-detection tests: one outbound cluster per scenario (its own hosts, its
// own DestinationRule outlierDetection), reached as `<name>.test:8080`, routes without retries
// (Istio's default policy would add tries of its own) unless a scenario asks for them.

export const PORT = 8080;
export const INTERVAL_MS = 10_000;

export interface ClusterSpec {
  name: string;
  hosts: string[]; // addresses, port 8080
  outlier?: unknown; // the raw Istio outlierDetection
  lb?: LbPolicy;
  timeoutMs?: number;
  retries?: unknown; // default { attempts: 0 }
}

export const clusterName = (name: string) => `outbound|${PORT}||${name}.test.svc.cluster.local`;

export function outlierSnapshot(version: string, proxyAddress: string, specs: ClusterSpec[]): ProxySnapshot {
  const routes: Route[] = [];
  const clusters: Cluster[] = [];
  const vhosts = specs.map((s) => {
    const route: Route = { name: s.name, match: [], action: { kind: 'route', destinations: [{ cluster: clusterName(s.name), weight: 100 }], retries: s.retries ?? { attempts: 0 } } };
    if (s.timeoutMs !== undefined && route.action.kind === 'route') route.action.timeoutMs = s.timeoutMs;
    routes.push(route);
    clusters.push(cluster(clusterName(s.name), s.lb ?? 'ROUND_ROBIN', s.outlier === undefined ? {} : { outlierDetection: s.outlier }));
    return { name: s.name, domains: [`${s.name}.test:${PORT}`], routes: [route] };
  });
  return outboundSnapshot(version, testNode(proxyAddress), {
    routes: [{ name: 'outbound_http', virtualHosts: vhosts }],
    clusters,
    endpoints: specs.map((s) => assignment(clusterName(s.name), s.hosts.map((a) => endpoint(a, PORT, { instance: `pod-${a.split('.').pop()}` })))),
  });
}

/** Talks to one sidecar's outbound listener and reads its outlier detectors. */
export function outlierProbe(sidecar: () => Sidecar, proxyAddress: string, clock: ManualClock) {
  const proxy = { address: proxyAddress, port: 15001 };
  return {
    send(name: string, headers: Record<string, string> = {}): Promise<ProxyResponse> {
      return viaProxy({ proxy, url: `http://${name}.test:${PORT}/`, headers });
    },
    /** The detector's view of one host (undefined: not watched). */
    state(name: string, address: string): HostOutlierState | undefined {
      return sidecar().outliers.get(clusterName(name))?.states().get(`${address}:${PORT}`);
    },
    stat(name: string, counter: string): number {
      return sidecar().stats.get(`cluster.${clusterName(name)}.outlier_detection.${counter}`);
    },
    /** Moves the clock to the next interval sweep (every detector here started at a multiple of the interval). */
    sweep(): number {
      clock.advance(INTERVAL_MS - (clock.now() % INTERVAL_MS));
      return clock.now();
    },
  };
}
