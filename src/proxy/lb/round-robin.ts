import type { UpstreamHost } from '../upstream/host.js';
import { allEqual, type LoadBalancer } from './load-balancer.js';

/** ROUND_ROBIN: each host in turn; with unequal weights, smooth weighted round robin (no bursts to one host). */
export class RoundRobinBalancer implements LoadBalancer {
  private next = 0;
  private readonly weights: number[] | null;
  private readonly current: number[];
  private readonly total: number;

  constructor(
    private readonly hosts: UpstreamHost[],
    w: readonly number[],
  ) {
    this.weights = allEqual(w) ? null : [...w];
    this.current = w.map(() => 0);
    this.total = w.reduce((a, b) => a + b, 0);
  }

  choose(): UpstreamHost | null {
    const hosts = this.hosts;
    if (hosts.length === 0) return null;
    if (!this.weights) {
      const h = hosts[this.next];
      this.next = this.next + 1 === hosts.length ? 0 : this.next + 1;
      return h;
    }
    let best = 0;
    for (let i = 0; i < hosts.length; i++) {
      this.current[i] += this.weights[i];
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.total;
    return hosts[best];
  }
}
