import type { RandomSource } from '../clock.js';
import type { UpstreamHost } from '../upstream/host.js';
import { murmur3 } from './hash.js';
import type { LoadBalancer } from './load-balancer.js';

export const DEFAULT_MIN_RING_SIZE = 1024;
const MAX_RING_SIZE = 8 * 1024 * 1024;

/**
 * RING_HASH (Istio's consistentHash): each host owns points on a ring of at least
 * `minRingSize` entries, in proportion to its weight; a key goes to the first point at or after
 * its hash. Removing a host moves its keys and, as in Envoy (the ring keeps its size, so the
 * survivors get more points), a few keys between survivors; adding one takes keys from all.
 */
export class RingHashBalancer implements LoadBalancer {
  private readonly points: Uint32Array;
  private readonly owners: UpstreamHost[];

  constructor(
    hosts: UpstreamHost[],
    weights: readonly number[],
    private readonly random: RandomSource,
    minRingSize = DEFAULT_MIN_RING_SIZE,
  ) {
    const total = weights.reduce((a, b) => a + b, 0);
    const size = Math.min(Math.max(minRingSize, hosts.length), MAX_RING_SIZE);
    const counts = weights.map((w) => Math.max(1, Math.round((size * w) / total)));
    // Each point is hash * 2^16 + host index (clusters have far fewer than 65536 hosts) in one
    // float64, exact below 2^53, so a plain numeric sort orders the ring with no object per
    // point, even for millions of points.
    const keyed = new Float64Array(counts.reduce((a, b) => a + b, 0));
    let n = 0;
    hosts.forEach((h, i) => {
      for (let k = 0; k < counts[i]; k++) keyed[n++] = murmur3(`${h.key}_${k}`) * 65536 + i;
    });
    keyed.sort();
    this.points = new Uint32Array(keyed.length);
    this.owners = new Array<UpstreamHost>(keyed.length);
    for (let j = 0; j < keyed.length; j++) {
      this.points[j] = Math.floor(keyed[j] / 65536);
      this.owners[j] = hosts[keyed[j] % 65536];
    }
  }

  choose(hash: number | undefined): UpstreamHost | null {
    const n = this.points.length;
    if (n === 0) return null;
    const h = hash ?? Math.floor(this.random() * 0x100000000);
    // First point >= h (binary search), wrapping to the start of the ring.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo];
  }
}
