import type { RandomSource } from '../clock.js';
import type { UpstreamHost } from '../upstream/host.js';
import type { LoadBalancer } from './load-balancer.js';

/**
 * LEAST_REQUEST (Istio's default): Envoy's power of two choices. Two random hosts, the one with
 * fewer active requests wins. We draw the two without replacement, so with two hosts the less
 * busy one always wins (Envoy draws with replacement). Endpoint weights are not used.
 */
export class LeastRequestBalancer implements LoadBalancer {
  constructor(
    private readonly hosts: UpstreamHost[],
    private readonly random: RandomSource,
  ) {}

  choose(): UpstreamHost | null {
    const hosts = this.hosts;
    const n = hosts.length;
    if (n === 0) return null;
    if (n === 1) return hosts[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = hosts[i];
    const b = hosts[j];
    return b.active < a.active ? b : a;
  }
}
