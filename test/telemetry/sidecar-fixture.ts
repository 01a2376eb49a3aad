import type { Cluster, ClusterLoadAssignment, Endpoint, Listener, ProxyNode, ProxySnapshot, RouteConfig, TelemetrySettings } from '../../src/api/snapshot.js';
import { Continue, type HttpFilterFactory } from '../../src/proxy/filters/http-filter.js';
import { faultInjectionFilter } from '../../src/proxy/filters/fault-injection.js';
import type { HttpStream } from '../../src/proxy/http-stream.js';
import { accessLogFilter, istioStatsFilter, peerMetadataFilter } from '../../src/telemetry/sidecar/filters.js';

// Peers for the sidecar telemetry tests: nodes shaped like bookinfo's, snapshots for a client
// sidecar (outbound) and a server sidecar (inbound, in front of an app), a parser for the
// exposition text, and a completion recorder that runs after the telemetry filters.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses `name{a="b",...} value` lines (comments skipped), unescaping label values. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) labels[p[1]] = p[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/** Samples of `name` whose labels include `match`. */
export function find(samples: Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

export function node(address: string, instance: string, workload: string, labels: Record<string, string>, namespace = 'bookinfo'): ProxyNode {
  return { id: `${instance}.${namespace}`, instance, workload, namespace, serviceAccount: 'default', labels, address };
}

export function meshEndpoint(address: string, port: number, inst: ProxyNode): Endpoint {
  return { address, port, instance: inst.instance, workload: inst.workload, namespace: inst.namespace, labels: { ...inst.labels }, healthy: true };
}

export const svc = (name: string) => `${name}.bookinfo.svc.cluster.local`;
export const out = (name: string, port = 9080) => `outbound|${port}||${svc(name)}`;

export interface OutboundService {
  name: string;
  endpoints: Endpoint[];
  /** Route action extras (fault, retries). */
  action?: Record<string, unknown>;
}

/** A client sidecar: one outbound HTTP listener on :15001 routing `<name>:9080` to each service's cluster. */
export function clientSnapshot(version: string, self: ProxyNode, services: OutboundService[], telemetry?: TelemetrySettings, extraListeners: Listener[] = []): ProxySnapshot {
  const routes: RouteConfig[] = [
    {
      name: 'outbound_http',
      virtualHosts: services.map((s) => ({
        name: `${svc(s.name)}:9080`,
        domains: [`${s.name}:9080`, `${svc(s.name)}:9080`],
        routes: [{ name: 'default', match: [], action: { kind: 'route' as const, destinations: [{ cluster: out(s.name), weight: 100 }], retries: { attempts: 0 }, ...(s.action ?? {}) } }],
      })),
    },
  ];
  const clusters: Cluster[] = services.map((s) => ({ name: out(s.name), direction: 'outbound', service: svc(s.name), port: 9080, protocol: 'http1', lbPolicy: 'ROUND_ROBIN' }));
  const endpoints: ClusterLoadAssignment[] = services.map((s) => ({ clusterName: out(s.name), endpoints: s.endpoints }));
  return {
    version,
    node: self,
    listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: self.address, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' }, ...extraListeners],
    routes,
    clusters,
    endpoints,
    ...(telemetry && { telemetry }),
  };
}

/** A server sidecar: an inbound listener on :9080 for service `service`, in front of the app at `app`. */
export function serverSnapshot(version: string, self: ProxyNode, service: string, app: { address: string; port: number }, telemetry?: TelemetrySettings): ProxySnapshot {
  return {
    version,
    node: self,
    listeners: [{ name: 'inbound_9080', direction: 'inbound', address: self.address, port: 9080, protocol: 'http', routeConfigName: 'inbound_9080' }],
    routes: [{ name: 'inbound_9080', virtualHosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [{ name: 'default', match: [], action: { kind: 'route', destinations: [{ cluster: 'inbound|9080||', weight: 100 }] } }] }] }],
    clusters: [{ name: 'inbound|9080||', direction: 'inbound', service: svc(service), port: 9080, protocol: 'http1', lbPolicy: 'LEAST_REQUEST' }],
    endpoints: [{ clusterName: 'inbound|9080||', endpoints: [{ address: app.address, port: app.port, instance: self.instance, labels: { ...self.labels }, healthy: true }] }],
    ...(telemetry && { telemetry }),
  };
}

/** Resolves when `n` streams have completed on the sidecar (its telemetry hooks ran before). */
export function completions(): { factory: HttpFilterFactory; count(): number; until(n: number): Promise<void> } {
  let done = 0;
  let waiters: Array<() => void> = [];
  const factory: HttpFilterFactory = () => ({
    name: 'test-completions',
    onRequest: () => Continue,
    onComplete(_s: HttpStream) {
      done++;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  });
  return {
    factory,
    count: () => done,
    async until(n: number) {
      while (done < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

/** The default chain's telemetry filters (as src/proxy/sidecar.ts registers them), then the recorder. */
export function telemetryChain(recorder: HttpFilterFactory): HttpFilterFactory[] {
  return [peerMetadataFilter, faultInjectionFilter, istioStatsFilter, accessLogFilter, recorder];
}
