import type { RandomSource } from '../clock.js';
import type { UpstreamHost } from '../upstream/host.js';
import { allEqual, type LoadBalancer } from './load-balancer.js';

/** RANDOM: uniform over healthy hosts, weighted when endpoint weights differ. */
export class RandomBalancer implements LoadBalancer {
  private readonly cumulative: number[] | null;

  constructor(
    private readonly hosts: UpstreamHost[],
    w: readonly number[],
    private readonly random: RandomSource,
  ) {
    if (allEqual(w)) this.cumulative = null;
    else {
      let t = 0;
      this.cumulative = w.map((x) => (t += x));
    }
  }

  choose(): UpstreamHost | null {
    const hosts = this.hosts;
    if (hosts.length === 0) return null;
    const c = this.cumulative;
    if (!c) return hosts[Math.floor(this.random() * hosts.length)];
    const x = this.random() * c[c.length - 1];
    for (let i = 0; i < c.length; i++) if (x < c[i]) return hosts[i];
    return hosts[hosts.length - 1];
  }
}
