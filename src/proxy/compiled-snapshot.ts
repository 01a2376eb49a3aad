import type { Endpoint, Listener, ProxySnapshot } from '../api/snapshot.js';
import type { RandomSource } from './clock.js';
import { catchAllRouteConfig, RouteTable } from './routing/route-table.js';
import { RuntimeCluster } from './upstream/cluster.js';
import type { HostRegistry } from './upstream/host-registry.js';
import type { Stats } from './stats.js';

// A validated snapshot turned into what the hot path reads: route tables with compiled
// matchers, clusters with their balancers. Requests capture the compiled snapshot they start
// with, so a swap never mixes two configurations within one request.

export class CompiledSnapshot {
  readonly routeTables = new Map<string, RouteTable>();
  readonly clusters = new Map<string, RuntimeCluster>();
  /** Route tables of inbound listeners that name no route config: everything to `inbound|port||`. */
  private readonly implicitTables = new Map<string, RouteTable>();

  constructor(
    readonly snapshot: ProxySnapshot,
    registry: HostRegistry,
    random: RandomSource,
    stats: Stats,
  ) {
    const node = snapshot.node;
    for (const rc of snapshot.routes) this.routeTables.set(rc.name, new RouteTable(rc.name, rc, node));
    const endpoints = new Map<string, Endpoint[]>();
    for (const cla of snapshot.endpoints) endpoints.set(cla.clusterName, cla.endpoints);
    for (const c of snapshot.clusters) this.clusters.set(c.name, new RuntimeCluster(c, endpoints.get(c.name) ?? [], registry, random, stats));
    for (const l of snapshot.listeners) {
      if (l.protocol === 'http' && l.routeConfigName === undefined) {
        const name = `inbound_${l.port}`;
        this.implicitTables.set(l.name, new RouteTable(name, catchAllRouteConfig(name, `inbound|${l.port}||`), node));
      }
    }
  }

  routeTableFor(l: Listener): RouteTable | undefined {
    return l.routeConfigName !== undefined ? this.routeTables.get(l.routeConfigName) : this.implicitTables.get(l.name);
  }
}
