import type { Cluster, Endpoint } from '../../api/snapshot.js';
import type { RandomSource } from '../clock.js';
import type { HttpStream } from '../http-stream.js';
import { compileHashPolicy, type HashKeyFunction } from '../lb/hash-policy.js';
import { LeastRequestBalancer } from '../lb/least-request.js';
import { EMPTY_BALANCER, type LoadBalancer } from '../lb/load-balancer.js';
import { MaglevBalancer } from '../lb/maglev.js';
import { RandomBalancer } from '../lb/random.js';
import { RingHashBalancer } from '../lb/ring-hash.js';
import { RoundRobinBalancer } from '../lb/round-robin.js';
import { murmur3 } from '../lb/hash.js';
import type { HostRegistry } from './host-registry.js';
import type { UpstreamHost } from './host.js';

// A cluster as the data plane runs it: its healthy hosts behind the load balancer its
// DestinationRule chose. Built once per snapshot; the hosts themselves live in the registry.

export class RuntimeCluster {
  readonly hosts: UpstreamHost[];
  readonly healthy: UpstreamHost[];
  readonly lb: LoadBalancer;
  /** Only for hash balancers (RING_HASH, MAGLEV): Envoy ignores hash policies elsewhere. */
  readonly hashKey: HashKeyFunction | undefined;

  constructor(
    readonly def: Cluster,
    endpoints: Endpoint[],
    registry: HostRegistry,
    random: RandomSource,
  ) {
    this.hosts = endpoints.map((e) => registry.host(e));
    this.healthy = this.hosts.filter((_, i) => endpoints[i].healthy);
    const hashing = def.lbPolicy === 'RING_HASH' || def.lbPolicy === 'MAGLEV';
    this.hashKey = hashing ? compileHashPolicy(def.hashPolicy) : undefined;
    const weights = endpoints.filter((e) => e.healthy).map((e) => (e.weight && e.weight > 0 ? e.weight : 1));
    this.lb = buildBalancer(def, this.healthy, weights, random);
  }

  /** A host for an HTTP request (UH when null). */
  chooseForStream(s: HttpStream): UpstreamHost | null {
    return this.lb.choose(this.hashKey ? this.hashKey(s) : undefined);
  }

  /** A host for a TCP connection: only the source IP can be a key. */
  chooseForConnection(remoteAddress: string): UpstreamHost | null {
    return this.lb.choose(this.hashKey && this.def.hashPolicy?.sourceIp ? murmur3(remoteAddress) : undefined);
  }
}

function buildBalancer(def: Cluster, hosts: UpstreamHost[], weights: number[], random: RandomSource): LoadBalancer {
  if (hosts.length === 0) return EMPTY_BALANCER;
  switch (def.lbPolicy) {
    case 'ROUND_ROBIN':
      return new RoundRobinBalancer(hosts, weights);
    case 'RANDOM':
      return new RandomBalancer(hosts, weights, random);
    case 'RING_HASH':
      return new RingHashBalancer(hosts, weights, random, def.ringSize);
    case 'MAGLEV':
      return new MaglevBalancer(hosts, random);
    case 'LEAST_REQUEST':
    case 'PASSTHROUGH': // no original-destination in the local mesh: the control plane lists the endpoints
    default:
      return new LeastRequestBalancer(hosts, random);
  }
}
