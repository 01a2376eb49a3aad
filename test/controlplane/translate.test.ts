import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteMatch } from '../../src/api/snapshot.js';
import { REVIEWS, REVIEWS_DR, cluster, instance, out, routesFor, translate, vhostFor } from './fixtures.js';

// Translation of config + registry into one proxy's snapshot, case by case against what
// istiod would build (src/controlplane/translate): listeners, virtual host domains, routes.
// Every case that must hold has a neighbour that must not. Clusters, endpoints, visibility:
// translate-clusters.test.ts.


test('listeners: inbound per instance port, outbound HTTP on 15001, outbound TCP per TCP service port', () => {
  const { snapshot: s } = translate('');
  const addr = s.node.address;
  assert.deepEqual(
    s.listeners.map((l) => [l.name, l.direction, `${l.address}:${l.port}`, l.protocol, l.routeConfigName ?? l.tcpCluster]),
    [
      ['inbound_9080', 'inbound', `${addr}:9080`, 'http', 'inbound_9080'],
      ['outbound_http_15001', 'outbound', `${addr}:15001`, 'http', 'outbound_http'],
      ['outbound_tcp_3306', 'outbound', `${addr}:3306`, 'tcp', out(3306, '', 'mysqldb.bookinfo.svc.cluster.local')],
    ],
  );
  assert.equal(s.node.id, 'productpage-v1-0.bookinfo');
  assert.deepEqual(s.endpoints.find((e) => e.clusterName === 'inbound|9080||')?.endpoints.map((e) => e.socketPath), ['/tmp/meshmedic-test/productpage-v1-0.sock']);
  assert.equal(cluster(s, 'inbound|9080||')?.protocol, 'http1');
  // The TCP service has a cluster but no virtual host.
  assert.ok(cluster(s, out(3306, '', 'mysqldb.bookinfo.svc.cluster.local')));
  assert.equal(vhostFor(s, 'mysqldb:3306'), undefined);
});

const DOMAIN_CASES: Array<{ name: string; node: string; authority: string; vhost?: string }> = [
  { name: 'short name with port, same namespace', node: 'productpage-v1-0', authority: 'reviews:9080', vhost: `${REVIEWS}:9080` },
  { name: 'name.ns with port', node: 'productpage-v1-0', authority: 'reviews.bookinfo:9080', vhost: `${REVIEWS}:9080` },
  { name: 'name.ns.svc with port', node: 'productpage-v1-0', authority: 'reviews.bookinfo.svc:9080', vhost: `${REVIEWS}:9080` },
  { name: 'FQDN with port', node: 'productpage-v1-0', authority: `${REVIEWS}:9080`, vhost: `${REVIEWS}:9080` },
  { name: 'no port means port 80: not the 9080 service', node: 'productpage-v1-0', authority: 'reviews' },
  { name: 'FQDN without port on a 9080 service', node: 'productpage-v1-0', authority: REVIEWS },
  { name: 'short name from another namespace', node: 'web-0', authority: 'reviews:9080' },
  { name: 'name.ns from another namespace', node: 'web-0', authority: 'reviews.bookinfo:9080', vhost: `${REVIEWS}:9080` },
  { name: 'port 80 service without port', node: 'web-0', authority: 'web', vhost: 'web.frontend.svc.cluster.local:80' },
  { name: 'port 80 service name.ns', node: 'web-0', authority: 'web.frontend', vhost: 'web.frontend.svc.cluster.local:80' },
  { name: 'port 80 service with port', node: 'web-0', authority: 'web:80', vhost: 'web.frontend.svc.cluster.local:80' },
  { name: 'ServiceEntry host', node: 'productpage-v1-0', authority: 'httpbin.org', vhost: 'httpbin.org:80' },
  { name: 'ServiceEntry host:port', node: 'productpage-v1-0', authority: 'httpbin.org:80', vhost: 'httpbin.org:80' },
  { name: 'ServiceEntry gets no Kubernetes short forms', node: 'productpage-v1-0', authority: 'httpbin:80' },
];

const WEB = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: frontend}
spec: {selector: {app: web}, ports: [{name: http-web, port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin}
spec: {hosts: [httpbin.org], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`;

for (const c of DOMAIN_CASES) {
  test(`domains: ${c.name} (${c.authority} from ${c.node})`, () => {
    const { snapshot } = translate(WEB, c.node, [instance('web-0', 'web', 'v1', { ns: 'frontend', port: 8080 })]);
    assert.equal(vhostFor(snapshot, c.authority)?.name, c.vhost);
  });
}

test('domains: each domain belongs to one virtual host, and web port 80 targets 8080 on its instance', () => {
  const { snapshot: s } = translate(WEB, 'web-0', [instance('web-0', 'web', 'v1', { ns: 'frontend', port: 8080 })]);
  const all = s.routes.find((r) => r.name === 'outbound_http')!.virtualHosts.flatMap((v) => v.domains);
  assert.equal(new Set(all).size, all.length);
  assert.deepEqual(s.endpoints.find((e) => e.clusterName === out(80, '', 'web.frontend.svc.cluster.local'))?.endpoints.map((e) => e.port), [8080]);
});

test('routes: no VirtualService gives the default route to the service cluster', () => {
  const { snapshot: s } = translate('');
  assert.deepEqual(routesFor(s, 'ratings:9080'), [
    { name: 'default', match: [], action: { kind: 'route', destinations: [{ cluster: out(9080, '', 'ratings.bookinfo.svc.cluster.local'), weight: 100 }] }, origin: 'default' },
  ]);
});

test('routes: ordered http[] with header match and weighted subsets', () => {
  const { snapshot: s } = translate(`${REVIEWS_DR}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
`);
  const routes = routesFor(s, 'reviews:9080');
  assert.deepEqual(routes.map((r) => [r.name, r.match, r.action.kind === 'route' && r.action.destinations.map((d) => [d.cluster, d.weight]), r.origin]), [
    ['jason', [{ headers: { 'end-user': { exact: 'jason' } } }], [[out(9080, 'v2', REVIEWS), 100]], 'VirtualService bookinfo/reviews'],
    ['reviews.bookinfo[1]', [], [[out(9080, 'v1', REVIEWS), 50], [out(9080, 'v3', REVIEWS), 50]], 'VirtualService bookinfo/reviews'],
  ]);
  // Other services keep their default route.
  assert.equal(routesFor(s, 'ratings:9080')[0].origin, 'default');
});

test('routes: every HTTPMatchRequest field maps to the RouteMatch', () => {
  const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - match:
    - uri: {prefix: /ratings}
      scheme: {exact: http}
      method: {exact: GET}
      authority: {regex: "ratings.*"}
      headers: {X-User: {exact: jason}, x-present: {}}
      withoutHeaders: {x-debug: {prefix: "1"}}
      queryParams: {q: {exact: a}, r: {regex: "b.*"}, s: {}}
      port: 9080
      sourceLabels: {app: productpage}
      sourceNamespace: bookinfo
      ignoreUriCase: true
    route: [{destination: {host: ratings}}]
`);
  const expected: RouteMatch = {
    uri: { prefix: '/ratings' },
    scheme: { exact: 'http' },
    method: { exact: 'GET' },
    authority: { regex: 'ratings.*' },
    headers: { 'x-user': { exact: 'jason' }, 'x-present': { present: true } },
    withoutHeaders: { 'x-debug': { prefix: '1' } },
    queryParams: { q: { exact: 'a' }, r: { regex: 'b.*' }, s: { present: true } },
    port: 9080,
    sourceLabels: { app: 'productpage' },
    sourceNamespace: 'bookinfo',
    ignoreUriCase: true,
  };
  assert.deepEqual(routesFor(s, 'ratings:9080')[0].match, [expected]);
});

// Conditions on who calls are decided per proxy: a match that cannot hold is dropped, and a
// route whose every match is dropped is dropped.
const SOURCE_CASES: Array<{ name: string; match: string; kept: boolean }> = [
  { name: 'sourceLabels of this proxy', match: '{sourceLabels: {app: productpage}}', kept: true },
  { name: 'sourceLabels of another workload', match: '{sourceLabels: {app: reviews}}', kept: false },
  { name: 'sourceNamespace of this proxy', match: '{sourceNamespace: bookinfo}', kept: true },
  { name: 'another sourceNamespace', match: '{sourceNamespace: other}', kept: false },
  { name: 'port of the virtual host', match: '{port: 9080}', kept: true },
  { name: 'another port', match: '{port: 9999}', kept: false },
  { name: 'gateways naming mesh', match: '{gateways: [mesh]}', kept: true },
  { name: 'gateways naming only a gateway', match: '{gateways: [istio-system/ingress]}', kept: false },
];

for (const c of SOURCE_CASES) {
  test(`routes: match on ${c.name} is ${c.kept ? 'kept' : 'dropped'}`, () => {
    const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - name: conditional
    match: [${c.match}]
    route: [{destination: {host: ratings}}]
  - name: rest
    route: [{destination: {host: ratings}}]
`);
    assert.deepEqual(routesFor(s, 'ratings:9080').map((r) => r.name), c.kept ? ['conditional', 'rest'] : ['rest']);
  });
}

const WEIGHT_CASES: Array<{ name: string; route: string; expect: Array<[string, number]> }> = [
  { name: 'one destination takes 100 whatever its weight', route: '[{destination: {host: reviews, subset: v1}, weight: 0}]', expect: [['v1', 100]] },
  { name: 'weights adding up to 100 stay', route: '[{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]', expect: [['v1', 90], ['v2', 10]] },
  { name: 'zero weight dropped', route: '[{destination: {host: reviews, subset: v1}, weight: 100}, {destination: {host: reviews, subset: v2}, weight: 0}]', expect: [['v1', 100]] },
  { name: 'normalized to 100', route: '[{destination: {host: reviews, subset: v1}, weight: 1}, {destination: {host: reviews, subset: v2}, weight: 1}, {destination: {host: reviews, subset: v3}, weight: 1}]', expect: [['v1', 34], ['v2', 33], ['v3', 33]] },
];

for (const c of WEIGHT_CASES) {
  test(`weights: ${c.name}`, () => {
    const { snapshot: s } = translate(`${REVIEWS_DR}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: ${c.route}}]}
`);
    const action = routesFor(s, 'reviews:9080')[0].action;
    assert.equal(action.kind, 'route');
    if (action.kind === 'route') assert.deepEqual(action.destinations.map((d) => [d.cluster.split('|')[2], d.weight]), c.expect);
  });
}

test('routes: rewrite, headers, mirror with percentage, timeout, retries and fault carried as written', () => {
  const { snapshot: s } = translate(`${REVIEWS_DR}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - rewrite: {uri: /v2/, authority: reviews-new}
    headers:
      request: {set: {x-a: "1"}, remove: [x-b]}
      response: {add: {x-c: "2"}}
    route:
    - destination: {host: reviews, subset: v1}
      headers: {request: {set: {x-dest: v1}}}
    mirror: {host: reviews, subset: v3}
    mirrorPercentage: {value: 25}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 500ms}
    fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
`);
  const r = routesFor(s, 'reviews:9080')[0];
  assert.deepEqual(r.headers, { request: { set: { 'x-a': '1' }, remove: ['x-b'] }, response: { add: { 'x-c': '2' } } });
  assert.deepEqual(r.action, {
    kind: 'route',
    destinations: [{ cluster: out(9080, 'v1', REVIEWS), weight: 100, headers: { request: { set: { 'x-dest': 'v1' } } } }],
    rewrite: { uri: '/v2/', authority: 'reviews-new' },
    mirror: { cluster: out(9080, 'v3', REVIEWS), percentage: 25 },
    timeoutMs: 1500,
    retries: { attempts: 3, perTryTimeout: '500ms' },
    fault: { abort: { httpStatus: 503, percentage: { value: 10 } } },
  });
});

test('routes: redirect (301 by default), direct response, mirror without percentage is 100', () => {
  const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details}
spec:
  hosts: [details]
  http:
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: details.bookinfo}
  - match: [{uri: {exact: /moved}}]
    redirect: {uri: /elsewhere, redirectCode: 308}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - route: [{destination: {host: details}}]
    mirror: {host: ratings}
`);
  const actions = routesFor(s, 'details:9080').map((r) => r.action);
  assert.deepEqual(actions[0], { kind: 'redirect', uri: '/new', authority: 'details.bookinfo', status: 301 });
  assert.deepEqual(actions[1], { kind: 'redirect', uri: '/elsewhere', status: 308 });
  assert.deepEqual(actions[2], { kind: 'direct', status: 418, body: 'short and stout' });
  assert.deepEqual(actions[3].kind === 'route' && actions[3].mirror, { cluster: out(9080, '', 'ratings.bookinfo.svc.cluster.local'), percentage: 100 });
});

test('routes: a host or subset that does not exist still routes, to a cluster the proxy does not have (503 NC)', () => {
  const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ghost}
spec:
  hosts: [nowhere]
  http: [{route: [{destination: {host: nowhere}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings, subset: v9}}]}]
`);
  const ghost = routesFor(s, 'nowhere');
  assert.equal(vhostFor(s, 'nowhere:80')?.name, 'nowhere.bookinfo.svc.cluster.local:80');
  const missing = out(80, '', 'nowhere.bookinfo.svc.cluster.local');
  assert.deepEqual(ghost[0].action.kind === 'route' && ghost[0].action.destinations.map((d) => d.cluster), [missing]);
  assert.equal(cluster(s, missing), undefined);
  const v9 = routesFor(s, 'ratings:9080')[0].action;
  assert.deepEqual(v9.kind === 'route' && v9.destinations.map((d) => d.cluster), [out(9080, 'v9', 'ratings.bookinfo.svc.cluster.local')]);
  assert.equal(cluster(s, out(9080, 'v9', 'ratings.bookinfo.svc.cluster.local')), undefined);
});

test('routes: a VirtualService bound only to a gateway does not touch sidecars', () => {
  const { snapshot: s } = translate(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge}
spec:
  hosts: [reviews]
  gateways: [istio-system/ingress]
  http: [{route: [{destination: {host: ratings}}]}]
`);
  assert.equal(routesFor(s, 'reviews:9080')[0].origin, 'default');
});

test('routes: destination port defaults to the virtual host port when the service has several', () => {
  const { snapshot: s } = translate(`
apiVersion: v1
kind: Service
metadata: {name: multi}
spec: {selector: {app: multi}, ports: [{name: http, port: 8000}, {name: http-admin, port: 8001}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi}
spec: {hosts: [multi], http: [{route: [{destination: {host: multi}}]}]}
`);
  for (const port of [8000, 8001]) {
    const a = routesFor(s, `multi:${port}`)[0].action;
    assert.deepEqual(a.kind === 'route' && a.destinations.map((d) => d.cluster), [out(port, '', 'multi.bookinfo.svc.cluster.local')]);
  }
});
