import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REVIEWS, REVIEWS_DR, cluster, endpointsOf, instance, out, routesFor, translate, vhostFor } from './fixtures.js';

// Translation, continued: clusters and their traffic policy, endpoints and subsets, exportTo,
// ServiceEntry resolutions, TCP routes, determinism and notes.

// Istio's precedence: top level < its port-level entry (replaces all four pieces) < subset
// pieces < the subset's port-level entry (replaces all four pieces again).
const LB_DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 10}}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {consistentHash: {httpHeaderName: X-User}}
      outlierDetection: {consecutive5xxErrors: 3}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  - name: v3
    labels: {version: v3}
    trafficPolicy:
      portLevelSettings:
      - port: {number: 9080}
        connectionPool: {http: {http1MaxPendingRequests: 1}}
`;

const LB_CASES: Array<{ cluster: string; lb: string; hash?: unknown; connectionPool?: unknown; outlier?: unknown }> = [
  { cluster: out(9080, '', REVIEWS), lb: 'RING_HASH', hash: { header: 'x-user' }, outlier: { consecutive5xxErrors: 3 } },
  { cluster: out(9080, 'v1', REVIEWS), lb: 'RING_HASH', hash: { header: 'x-user' }, outlier: { consecutive5xxErrors: 3 } },
  { cluster: out(9080, 'v2', REVIEWS), lb: 'ROUND_ROBIN', outlier: { consecutive5xxErrors: 3 } },
  { cluster: out(9080, 'v3', REVIEWS), lb: 'LEAST_REQUEST', connectionPool: { http: { http1MaxPendingRequests: 1 } } },
];

for (const c of LB_CASES) {
  test(`clusters: traffic policy precedence for ${c.cluster}`, () => {
    const { snapshot: s } = translate(LB_DR);
    const cl = cluster(s, c.cluster)!;
    assert.equal(cl.lbPolicy, c.lb);
    assert.deepEqual(cl.hashPolicy, c.hash);
    assert.equal(cl.ringSize, c.hash ? 1024 : undefined);
    // The top-level connectionPool is replaced by the port-level entry, which has none.
    assert.deepEqual(cl.connectionPool, c.connectionPool);
    assert.deepEqual(cl.outlierDetection, c.outlier);
    assert.equal(cl.origin, 'DestinationRule bookinfo/reviews');
  });
}

const SIMPLE_CASES: Array<{ lb: string; expect: string; extra?: Record<string, unknown> }> = [
  { lb: '{}', expect: 'LEAST_REQUEST' },
  { lb: '{simple: ROUND_ROBIN}', expect: 'ROUND_ROBIN' },
  { lb: '{simple: RANDOM}', expect: 'RANDOM' },
  { lb: '{simple: LEAST_CONN}', expect: 'LEAST_REQUEST' },
  { lb: '{simple: PASSTHROUGH}', expect: 'PASSTHROUGH' },
  { lb: '{consistentHash: {useSourceIp: true}}', expect: 'RING_HASH', extra: { hashPolicy: { sourceIp: true }, ringSize: 1024 } },
  { lb: '{consistentHash: {httpCookie: {name: user, ttl: 10s}, ringHash: {minimumRingSize: 2048}}}', expect: 'RING_HASH', extra: { hashPolicy: { cookie: { name: 'user', ttlMs: 10000 } }, ringSize: 2048 } },
  { lb: '{consistentHash: {httpQueryParameterName: user, maglev: {}}}', expect: 'MAGLEV', extra: { hashPolicy: { queryParameter: 'user' } } },
];

for (const c of SIMPLE_CASES) {
  test(`clusters: loadBalancer ${c.lb} -> ${c.expect}`, () => {
    const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec: {host: ratings, trafficPolicy: {loadBalancer: ${c.lb}}}
`);
    const cl = cluster(s, out(9080, '', 'ratings.bookinfo.svc.cluster.local'))!;
    assert.equal(cl.lbPolicy, c.expect);
    for (const [k, v] of Object.entries(c.extra ?? {})) assert.deepEqual((cl as unknown as Record<string, unknown>)[k], v);
    // Without a rule: Istio's default, and no origin.
    assert.equal(cluster(s, out(9080, '', 'details.bookinfo.svc.cluster.local'))?.lbPolicy, 'LEAST_REQUEST');
    assert.equal(cluster(s, out(9080, '', 'details.bookinfo.svc.cluster.local'))?.origin, undefined);
  });
}

test('endpoints: the service selects its instances, subsets filter by labels, health is carried', () => {
  const { snapshot: s } = translate(REVIEWS_DR);
  assert.deepEqual(endpointsOf(s, out(9080, '', REVIEWS)), ['reviews-v1-0', 'reviews-v2-0', 'reviews-v3-0(down)']);
  assert.deepEqual(endpointsOf(s, out(9080, 'v2', REVIEWS)), ['reviews-v2-0']);
  assert.deepEqual(endpointsOf(s, out(9080, 'v3', REVIEWS)), ['reviews-v3-0(down)']);
  const ep = s.endpoints.find((e) => e.clusterName === out(9080, 'v2', REVIEWS))!.endpoints[0];
  assert.match(ep.address, /^127\.10\.201\.\d+$/);
  assert.equal(ep.port, 9080);
  assert.deepEqual(endpointsOf(s, out(3306, '', 'mysqldb.bookinfo.svc.cluster.local')), ['mysqldb-v1-0']);
});

const EXPORT_CASES: Array<{ name: string; yaml: string; node: string; visible: boolean }> = [
  {
    name: 'Service exported to its own namespace, seen from elsewhere',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: secret, namespace: vault, annotations: {networking.istio.io/exportTo: "."}}\nspec: {selector: {app: secret}, ports: [{name: http, port: 8200}]}',
    node: 'productpage-v1-0',
    visible: false,
  },
  {
    name: 'Service exported to its own namespace, seen from inside',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: secret, namespace: vault, annotations: {networking.istio.io/exportTo: "."}}\nspec: {selector: {app: secret}, ports: [{name: http, port: 8200}]}',
    node: 'vault-0',
    visible: true,
  },
  {
    name: 'Service exported to a named namespace',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: secret, namespace: vault, annotations: {networking.istio.io/exportTo: "bookinfo"}}\nspec: {selector: {app: secret}, ports: [{name: http, port: 8200}]}',
    node: 'productpage-v1-0',
    visible: true,
  },
];

for (const c of EXPORT_CASES) {
  test(`exportTo: ${c.name}`, () => {
    const { snapshot: s } = translate(c.yaml, c.node, [instance('vault-0', 'vault', 'v1', { ns: 'vault' })]);
    assert.equal(!!vhostFor(s, 'secret.vault:8200'), c.visible);
    assert.equal(!!cluster(s, out(8200, '', 'secret.vault.svc.cluster.local')), c.visible);
  });
}

test("exportTo: a VirtualService or DestinationRule exported to '.' applies only in its namespace", () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings-private, namespace: vault}
spec:
  hosts: [ratings.bookinfo.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: ratings.bookinfo.svc.cluster.local}}], timeout: 1s}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-private, namespace: vault}
spec: {host: ratings.bookinfo.svc.cluster.local, exportTo: ["."], trafficPolicy: {loadBalancer: {simple: RANDOM}}}
`;
  const extra = [instance('vault-0', 'vault', 'v1', { ns: 'vault' })];
  const inVault = translate(yaml, 'vault-0', extra).snapshot;
  assert.equal(routesFor(inVault, 'ratings.bookinfo:9080')[0].origin, 'VirtualService vault/ratings-private');
  assert.equal(cluster(inVault, out(9080, '', 'ratings.bookinfo.svc.cluster.local'))?.lbPolicy, 'RANDOM');
  const inBookinfo = translate(yaml, 'productpage-v1-0', extra).snapshot;
  assert.equal(routesFor(inBookinfo, 'ratings:9080')[0].origin, 'default');
  assert.equal(cluster(inBookinfo, out(9080, '', 'ratings.bookinfo.svc.cluster.local'))?.lbPolicy, 'LEAST_REQUEST');
});

test('DestinationRule lookup: the proxy namespace first, then the service namespace, then the root namespace', () => {
  const rule = (ns: string, lb: string) => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-${ns}, namespace: ${ns}}
spec: {host: ratings.bookinfo.svc.cluster.local, trafficPolicy: {loadBalancer: {simple: ${lb}}}}
`;
  const extra = [instance('client-0', 'client', 'v1', { ns: 'client' })];
  const all = [rule('client', 'RANDOM'), rule('bookinfo', 'ROUND_ROBIN'), rule('istio-system', 'PASSTHROUGH')].join('---\n');
  const lb = (yaml: string) => cluster(translate(yaml, 'client-0', extra).snapshot, out(9080, '', 'ratings.bookinfo.svc.cluster.local'))?.lbPolicy;
  assert.equal(lb(all), 'RANDOM');
  assert.equal(lb([rule('bookinfo', 'ROUND_ROBIN'), rule('istio-system', 'PASSTHROUGH')].join('---\n')), 'ROUND_ROBIN');
  assert.equal(lb(rule('istio-system', 'PASSTHROUGH')), 'PASSTHROUGH');
  assert.equal(lb(rule('elsewhere', 'RANDOM')), 'LEAST_REQUEST');
});

test('ServiceEntry: DNS without endpoints dials the host; STATIC endpoints with subsets; NONE passes through', () => {
  const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin}
spec: {hosts: [httpbin.org], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy}
spec:
  hosts: [legacy.internal]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 127.10.201.200, labels: {version: old}}
  - {address: 127.10.201.201, ports: {http: 9090}, labels: {version: new}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy}
spec: {host: legacy.internal, subsets: [{name: new, labels: {version: new}}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: anything}
spec: {hosts: ["*.example.com"], ports: [{number: 80, name: http, protocol: HTTP}], resolution: NONE}
`);
  const eps = (c: string) => s.endpoints.find((e) => e.clusterName === c)?.endpoints.map((e) => `${e.address}:${e.port}`);
  assert.deepEqual(eps(out(80, '', 'httpbin.org')), ['httpbin.org:80']);
  assert.deepEqual(eps(out(8080, '', 'legacy.internal')), ['127.10.201.200:8080', '127.10.201.201:9090']);
  assert.deepEqual(eps(out(8080, 'new', 'legacy.internal')), ['127.10.201.201:9090']);
  assert.deepEqual(eps(out(80, '', '*.example.com')), []);
  assert.equal(cluster(s, out(80, '', '*.example.com'))?.lbPolicy, 'PASSTHROUGH');
  assert.equal(vhostFor(s, 'legacy.internal:8080')?.name, 'legacy.internal:8080');
  assert.equal(vhostFor(s, 'legacy.internal'), undefined);
  assert.equal(vhostFor(s, '*.example.com')?.name, '*.example.com:80');
});

test('TCP: a VirtualService tcp route picks the listener cluster; without one the service cluster', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mysqldb}
spec: {host: mysqldb, subsets: [{name: v2, labels: {version: v2}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysqldb}
spec:
  hosts: [mysqldb]
  tcp:
  - match: [{sourceLabels: {app: reviews}}]
    route: [{destination: {host: mysqldb, subset: v2}}]
`;
  const tcpCluster = (node: string) => translate(yaml, node).snapshot.listeners.find((l) => l.name === 'outbound_tcp_3306')?.tcpCluster;
  assert.equal(tcpCluster('reviews-v1-0'), out(3306, 'v2', 'mysqldb.bookinfo.svc.cluster.local'));
  assert.equal(tcpCluster('productpage-v1-0'), out(3306, '', 'mysqldb.bookinfo.svc.cluster.local'));
});

test('determinism: the same state gives an equal snapshot and version; a change moves the version', () => {
  const a = translate(REVIEWS_DR).snapshot;
  const b = translate(REVIEWS_DR).snapshot;
  assert.deepEqual(a, b);
  const c = translate(REVIEWS_DR.replace('{name: v3, labels: {version: v3}}', '{name: v3, labels: {version: v3x}}')).snapshot;
  assert.notEqual(c.version, a.version);
});

test('notes: fields not implemented yet are reported, not silently ignored', () => {
  const { notes } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{corsPolicy: {allowOrigins: [{exact: "*"}]}, route: [{destination: {host: ratings}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec: {egress: [{hosts: ["./*"]}]}
`);
  assert.ok(notes.some((n) => n.includes('VirtualService bookinfo/ratings http[0]') && n.includes('corsPolicy')), notes.join('\n'));
  assert.ok(notes.some((n) => n.startsWith('Sidecar:')), notes.join('\n'));
});

test('notes: http[].timeout and retries are enforced by the sidecar, so they are not reported as unimplemented', () => {
  const { notes, snapshot } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings}}], timeout: 2s, retries: {attempts: 1}}]
`);
  assert.ok(!notes.some((n) => n.includes('timeout')), notes.join('\n'));
  assert.ok(!notes.some((n) => n.includes('retries')), notes.join('\n'));
  const action = routesFor(snapshot, 'ratings:9080')[0].action;
  assert.equal(action.kind === 'route' && action.timeoutMs, 2000);
  assert.deepEqual(action.kind === 'route' && action.retries, { attempts: 1 });
});

test('notes: connectionPool fields the sidecar does not act on are reported; the enforced ones are not', () => {
  const { notes, snapshot } = translate(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 3, connectTimeout: 1s, maxConnectionDuration: 1h}
      http: {http1MaxPendingRequests: 2, maxRetries: 1, h2UpgradePolicy: UPGRADE}
`);
  const pool = notes.filter((n) => n.includes('connectionPool'));
  assert.deepEqual(pool.map((n) => n.replace(/^.*connectionPool\./, '').replace(/ is.*/, '')).sort(), ['http.h2UpgradePolicy', 'tcp.maxConnectionDuration']);
  assert.ok(pool.every((n) => n.startsWith('DestinationRule bookinfo/ratings')), pool.join('\n'));
  assert.deepEqual((cluster(snapshot, out(9080, '', 'ratings.bookinfo.svc.cluster.local'))?.connectionPool as { tcp: unknown }).tcp, { maxConnections: 3, connectTimeout: '1s', maxConnectionDuration: '1h' });
});

test('notes: retries.retryRemoteLocalities is reported; backoff and retryIgnorePreviousHosts reach the sidecar', () => {
  const { notes, snapshot } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings}}], retries: {attempts: 2, backoff: 100ms, retryIgnorePreviousHosts: false, retryRemoteLocalities: true}}]
`);
  assert.ok(notes.some((n) => n.includes('VirtualService bookinfo/ratings') && n.includes('retryRemoteLocalities')), notes.join('\n'));
  assert.ok(!notes.some((n) => n.includes('backoff') || n.includes('retryIgnorePreviousHosts')), notes.join('\n'));
  const routes = snapshot.routes.flatMap((rc) => rc.virtualHosts.flatMap((vh) => vh.routes));
  assert.ok(routes.some((r) => r.action.kind === 'route' && (r.action.retries as { backoff?: string } | undefined)?.backoff === '100ms'));
});
