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
import type { Stats } from '../stats.js';
import { CircuitBreakers } from './circuit-breakers.js';
import { connectionPoolSettings } from './connection-pool-settings.js';
import type { HostRegistry } from './host-registry.js';
import type { UpstreamHost } from './host.js';

// A cluster as the data plane runs it: its healthy hosts behind the load balancer its
// DestinationRule chose. Built once per snapshot; the hosts themselves live in the registry.

/** Where each try's outcome goes, for outlier detection: an HTTP status, or the code Envoy maps a
 * local-origin failure to (503 connect failure or reset, 504 timeout). */
export interface HostOutcomes {
  record(host: UpstreamHost, code: number): void;
}

export class RuntimeCluster {
  /** Outlier detection of this cluster (null: its DestinationRule has none). */
  outlier: HostOutcomes | null = null;
  /** The connectionPool limits and what the cluster holds against them. */
  readonly breakers: CircuitBreakers;
  readonly hosts: UpstreamHost[];
  /** Hosts healthy in the snapshot (all Istio's EDS would send): the ones outlier detection watches. */
  readonly healthyInSnapshot: readonly UpstreamHost[];
  /** Hosts the balancer picks from: healthy in the snapshot and not ejected (routeAround replaces both). */
  healthy: UpstreamHost[];
  lb: LoadBalancer;
  private readonly weights: number[];
  private readonly random: RandomSource;
  /** Only for hash balancers (RING_HASH, MAGLEV): Envoy ignores hash policies elsewhere. */
  readonly hashKey: HashKeyFunction | undefined;

  constructor(
    readonly def: Cluster,
    endpoints: Endpoint[],
    registry: HostRegistry,
    random: RandomSource,
    stats: Stats,
  ) {
    this.breakers = new CircuitBreakers(def.name, connectionPoolSettings(def.connectionPool), stats);
    this.hosts = endpoints.map((e) => registry.host(e));
    this.healthy = this.hosts.filter((_, i) => endpoints[i].healthy);
    this.healthyInSnapshot = this.healthy;
    this.random = random;
    const hashing = def.lbPolicy === 'RING_HASH' || def.lbPolicy === 'MAGLEV';
    this.hashKey = hashing ? compileHashPolicy(def.hashPolicy) : undefined;
    this.weights = endpoints.filter((e) => e.healthy).map((e) => (e.weight && e.weight > 0 ? e.weight : 1));
    this.lb = buildBalancer(def, this.healthy, this.weights, random);
  }

  /**
   * Outlier detection changed who takes traffic: the balancer is rebuilt over the hosts healthy
   * in the snapshot minus the ejected ones (`isEjected` null: all of them, as in panic). Ejections
   * are rare, so the per-request path stays free of checks.
   */
  routeAround(isEjected: ((h: UpstreamHost) => boolean) | null): void {
    const hosts: UpstreamHost[] = [];
    const weights: number[] = [];
    this.healthyInSnapshot.forEach((h, i) => {
      if (isEjected === null || !isEjected(h)) {
        hosts.push(h);
        weights.push(this.weights[i]);
      }
    });
    this.healthy = hosts;
    this.lb = buildBalancer(this.def, hosts, weights, this.random);
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
