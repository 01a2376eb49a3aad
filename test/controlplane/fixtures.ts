import type { PortProtocol, ProxySnapshot, Route, WorkloadInstance } from '../../src/api/snapshot.js';
import { parseText } from '../../src/config/loader.js';
import { ConfigStore } from '../../src/config/store.js';
import { ServiceRegistry } from '../../src/controlplane/registry.js';
import { buildMeshView } from '../../src/controlplane/translate/mesh-view.js';
import { buildSnapshot } from '../../src/controlplane/translate/snapshot.js';

// A Bookinfo-shaped mesh for control plane tests: Services, instances (addresses in
// 127.10.201.0/24) and helpers to read a snapshot.

export const BOOKINFO = `
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: bookinfo}
spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: bookinfo}
spec: {selector: {app: details}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: bookinfo}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: mysqldb, namespace: bookinfo}
spec: {selector: {app: mysqldb}, ports: [{name: tcp-mysql, port: 3306}]}
`;

/** Each instance name gets one address for the whole test run, so equal state stays equal. */
const addresses = new Map<string, string>();
const addressOf = (name: string) => {
  if (!addresses.has(name)) addresses.set(name, `127.10.201.${addresses.size + 1}`);
  return addresses.get(name)!;
};

export function instance(name: string, app: string, version: string, opts: { ns?: string; port?: number; protocol?: PortProtocol; healthy?: boolean; address?: string } = {}): WorkloadInstance {
  const port = opts.port ?? 9080;
  return {
    name,
    workload: `${app}-${version}`,
    namespace: opts.ns ?? 'bookinfo',
    serviceAccount: `bookinfo-${app}`,
    labels: { app, version },
    address: opts.address ?? addressOf(name),
    ports: [{ name: opts.protocol === 'tcp' ? 'tcp' : 'http', port, protocol: opts.protocol ?? 'http', app: { socketPath: `/tmp/meshmedic-test/${name}.sock` } }],
    healthy: opts.healthy ?? true,
    source: 'topology',
  };
}

export function bookinfoInstances(): WorkloadInstance[] {
  return [
    instance('productpage-v1-0', 'productpage', 'v1'),
    instance('details-v1-0', 'details', 'v1'),
    instance('reviews-v1-0', 'reviews', 'v1'),
    instance('reviews-v2-0', 'reviews', 'v2'),
    instance('reviews-v3-0', 'reviews', 'v3', { healthy: false }),
    instance('ratings-v1-0', 'ratings', 'v1'),
    instance('mysqldb-v1-0', 'mysqldb', 'v1', { port: 3306, protocol: 'tcp' }),
  ];
}

export function load(yaml: string, file = 'test.yaml') {
  const r = parseText(yaml, file, { defaultNamespace: 'bookinfo' });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.resources;
}

/** Translate `yaml` (on top of Bookinfo's Services) for the proxy of instance `node`. */
export function translate(yaml: string, node = 'productpage-v1-0', extra: WorkloadInstance[] = []): { snapshot: ProxySnapshot; notes: string[] } {
  const store = new ConfigStore(() => 0);
  store.apply(load(BOOKINFO + '\n---\n' + yaml));
  const registry = new ServiceRegistry(store);
  for (const i of [...bookinfoInstances(), ...extra]) registry.upsert(i);
  const view = buildMeshView(store, registry);
  const inst = view.instances.find((i) => i.name === node);
  if (!inst) throw new Error(`no instance ${node}`);
  return buildSnapshot(view, inst);
}

export function vhostFor(s: ProxySnapshot, authority: string) {
  const rc = s.routes.find((r) => r.name === 'outbound_http');
  return rc?.virtualHosts.find((v) => v.domains.includes(authority));
}

export function routesFor(s: ProxySnapshot, authority: string): Route[] {
  const vh = vhostFor(s, authority);
  if (!vh) throw new Error(`no virtual host answers ${authority}`);
  return vh.routes;
}

export function cluster(s: ProxySnapshot, name: string) {
  return s.clusters.find((c) => c.name === name);
}

export function endpointsOf(s: ProxySnapshot, name: string): string[] | undefined {
  return s.endpoints.find((e) => e.clusterName === name)?.endpoints.map((e) => `${e.instance}${e.healthy ? '' : '(down)'}`);
}

export const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
export const out = (port: number, subset: string, host: string) => `outbound|${port}|${subset}|${host}`;

/** Subsets v1, v2, v3 of reviews by version label. */
export const REVIEWS_DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`;
