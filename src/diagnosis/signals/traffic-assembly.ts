import { FeatureAccumulator } from './features.js';
import type { Features, Reporter } from './snapshot.js';
import { parseServiceHost, UNKNOWN, type SignalRow } from './traffic-rows.js';
import { hostForms } from './hosts.js';

// Groups the rows of one window into the things diagnosis reasons about, each with one
// accumulator per reporter:
//   service   by destination_service (what every caller sent it: source reports; what its
//             sidecars answered: destination reports)
//   workload  by destination_service + destination_workload
//   instance  by destination_service + the pod of the destination sidecar that reported
//   outbound  of each workload and each instance (source reports, by source_workload / pod)
//   edge      by calling workload + destination_service (both reporters)
//   instance edge  by calling pod + destination_service (source reports only: a destination
//             sidecar does not know the caller's pod)
// TCP connections count as requests of their edge, a connection that failed (a response flag)
// as an error: they carry the call graph to TCP services and their failures.

export interface Meta {
  kind: 'service' | 'workload' | 'instance' | 'external';
  host: string;
  namespace: string;
  service?: string;
  workload?: string;
  version?: string;
  instance?: string;
  protocol: string;
}

export interface EdgeMeta {
  sourceWorkload: string;
  sourceNamespace: string;
  sourceInstance?: string;
  sourceCanonical: string;
  host: string;
  service: string;
  namespace: string;
  protocol: string;
}

export interface Side {
  source: FeatureAccumulator;
  destination: FeatureAccumulator;
}

const side = (): Side => ({ source: new FeatureAccumulator(), destination: new FeatureAccumulator() });

export interface WindowRows {
  requests: SignalRow[];
  buckets: SignalRow[];
  durationSum: SignalRow[];
  tcpOpened: SignalRow[];
}

export class TrafficAssembly {
  readonly things = new Map<string, { meta: Meta; side: Side }>();
  readonly outbound = new Map<string, FeatureAccumulator>();
  readonly edges = new Map<string, { meta: EdgeMeta; side: Side }>();
  readonly instanceEdges = new Map<string, { meta: EdgeMeta; side: Side }>();
  /** Which services each workload answers for (from destination reports), by rate. */
  readonly servesRate = new Map<string, Map<string, number>>();
  /** Hosts some destination sidecar reported on: in the mesh, whatever their name. */
  readonly meshHosts = new Set<string>();

  /** Service hosts some destination sidecar reported: the mesh's own FQDNs. */
  private readonly served = new Set<string>();

  constructor(rows: WindowRows) {
    for (const r of rows.requests) if (r.reporter === 'destination') this.served.add(r.host);
    for (const r of rows.requests) this.feed(r, (acc) => acc.addRequests({ code: r.code, grpcStatus: r.grpcStatus, flags: r.flags, rate: r.value }));
    for (const r of rows.tcpOpened) this.feed(r, (acc) => acc.addRequests({ code: r.flags === '-' ? '200' : '0', grpcStatus: '', flags: r.flags, rate: r.value }));
    for (const r of rows.buckets) this.feed(r, (acc) => acc.addBucket(r.le, r.value), true);
    // _sum rows carry no count: the count is the request rate of the same labels, which the
    // requests rows gave; pair them by key through a second accumulator pass.
    for (const r of rows.durationSum) this.feed(r, (acc) => acc.addDuration(r.value, 0), true);
    for (const r of rows.requests) this.feed(r, (acc) => acc.addDuration(0, r.value), true);
  }

  /** Routes a row to every accumulator it belongs to. `quiet`: do not learn topology from it (buckets, sums). */
  private feed(r: SignalRow, add: (acc: FeatureAccumulator) => void, quiet = false): void {
    const host = this.meshHostOf(r);
    if (host !== r.host) r = { ...r, host };
    const hostInfo = parseServiceHost(r.host);
    const namespace = hostInfo?.namespace ?? (r.serviceNamespace !== UNKNOWN ? r.serviceNamespace : '');
    const service = hostInfo?.name ?? (r.serviceName || r.host);
    const reporter: Reporter = r.reporter;
    if (!quiet && reporter === 'destination') {
      this.meshHosts.add(r.host);
      if (r.destinationWorkload !== UNKNOWN) {
        const k = `${r.destinationNamespace}/${r.destinationWorkload}`;
        let m = this.servesRate.get(k);
        if (!m) this.servesRate.set(k, (m = new Map()));
        m.set(r.host, (m.get(r.host) ?? 0) + r.value);
      }
    }
    const proto = r.protocol;
    add(this.thing(`service|${r.host}`, { kind: 'service', host: r.host, namespace, service, protocol: proto }).side[reporter]);
    if (r.destinationWorkload !== UNKNOWN) {
      const version = r.destinationVersion && r.destinationVersion !== UNKNOWN ? r.destinationVersion : undefined;
      add(this.thing(`workload|${r.host}|${r.destinationNamespace}/${r.destinationWorkload}`, { kind: 'workload', host: r.host, namespace: r.destinationNamespace, service, workload: r.destinationWorkload, version, protocol: proto }).side[reporter]);
      if (reporter === 'destination' && r.pod) {
        add(this.thing(`instance|${r.host}|${r.podNamespace}/${r.pod}`, { kind: 'instance', host: r.host, namespace: r.podNamespace || r.destinationNamespace, service, workload: r.destinationWorkload, version, instance: r.pod, protocol: proto }).side.destination);
      }
    }
    if (reporter === 'source' && r.sourceWorkload !== UNKNOWN) {
      add(this.acc(this.outbound, `workload|${r.sourceNamespace}/${r.sourceWorkload}`));
      if (r.pod) add(this.acc(this.outbound, `instance|${r.podNamespace}/${r.pod}`));
    }
    const meta: EdgeMeta = { sourceWorkload: r.sourceWorkload, sourceNamespace: r.sourceNamespace, sourceCanonical: r.sourceCanonical, host: r.host, service, namespace, protocol: proto };
    add(this.edge(this.edges, `${r.sourceNamespace}/${r.sourceWorkload}|${r.host}`, meta).side[reporter]);
    if (reporter === 'source' && r.pod && r.sourceWorkload !== UNKNOWN) {
      add(this.edge(this.instanceEdges, `${r.podNamespace}/${r.pod}|${r.host}`, { ...meta, sourceInstance: r.pod }).side.source);
    }
  }

  /**
   * A caller's sidecar that chose no route (no cluster: `NC`; a request cut before routing, such
   * as a caller's timeout during a network delay: `DC`) reports the authority the application
   * wrote as destination_service (`adservice:9555`, `reviews`), as Envoy does. When that name,
   * completed in the caller's namespace, is a service of the mesh, the row is that service's:
   * otherwise a mesh service would pass for an external host, and the calls that failed on the
   * way would not count against the edge they failed on.
   */
  private meshHostOf(r: SignalRow): string {
    if (r.reporter !== 'source' || this.served.has(r.host) || parseServiceHost(r.host)) return r.host;
    const bare = r.host.replace(/:\d+$/, '');
    return hostForms(bare, r.sourceNamespace).find((h) => this.served.has(h)) ?? r.host;
  }

  private thing(key: string, meta: Meta): { meta: Meta; side: Side } {
    let t = this.things.get(key);
    if (!t) this.things.set(key, (t = { meta, side: side() }));
    return t;
  }

  private edge(map: Map<string, { meta: EdgeMeta; side: Side }>, key: string, meta: EdgeMeta): { meta: EdgeMeta; side: Side } {
    let e = map.get(key);
    if (!e) map.set(key, (e = { meta, side: side() }));
    return e;
  }

  private acc(map: Map<string, FeatureAccumulator>, key: string): FeatureAccumulator {
    let a = map.get(key);
    if (!a) map.set(key, (a = new FeatureAccumulator()));
    return a;
  }

  /** The service a workload answers for most (its own traffic's destination_service), if any. */
  serviceOf(namespace: string, workload: string): string | undefined {
    const m = this.servesRate.get(`${namespace}/${workload}`);
    if (!m) return undefined;
    return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  }
}

export function featuresOf(side: Side | undefined, windowSeconds: number): { source: Features | null; destination: Features | null } {
  return { source: side?.source.features(windowSeconds) ?? null, destination: side?.destination.features(windowSeconds) ?? null };
}
