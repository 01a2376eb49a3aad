import type { RandomSource } from '../clock.js';
import type { UpstreamHost } from '../upstream/host.js';
import { murmur3 } from './hash.js';
import type { LoadBalancer } from './load-balancer.js';

export const MAGLEV_TABLE_SIZE = 65537; // Envoy's default, a prime

/**
 * MAGLEV: a lookup table where each host fills slots along its own permutation (offset, skip),
 * taking turns, so hosts own near-equal shares and a host change moves few keys. Endpoint
 * weights are not used.
 */
export class MaglevBalancer implements LoadBalancer {
  private readonly table: Int32Array;

  constructor(
    private readonly hosts: UpstreamHost[],
    private readonly random: RandomSource,
    tableSize = MAGLEV_TABLE_SIZE,
  ) {
    const m = tableSize;
    this.table = new Int32Array(hosts.length ? m : 0).fill(-1);
    if (!hosts.length) return;
    const offset = hosts.map((h) => murmur3(h.key, 0) % m);
    const skip = hosts.map((h) => (murmur3(h.key, 0x9e3779b9) % (m - 1)) + 1);
    const next = hosts.map(() => 0);
    let filled = 0;
    for (;;) {
      for (let i = 0; i < hosts.length; i++) {
        let c = (offset[i] + next[i] * skip[i]) % m;
        while (this.table[c] >= 0) {
          next[i]++;
          c = (offset[i] + next[i] * skip[i]) % m;
        }
        this.table[c] = i;
        next[i]++;
        if (++filled === m) return;
      }
    }
  }

  choose(hash: number | undefined): UpstreamHost | null {
    const t = this.table;
    if (t.length === 0) return null;
    const h = hash ?? Math.floor(this.random() * 0x100000000);
    return this.hosts[t[h % t.length]];
  }
}
