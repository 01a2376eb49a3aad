import type { ProxySnapshot, Route, RouteMatch, VirtualHost } from '../../src/api/snapshot.js';
import { assignment, cluster, endpoint, testNode } from './helpers.js';

// The snapshot routing.test.ts runs: one virtual host per feature. Every route names itself in
// a response header (`x-route`), so a row can say which route answered.

export const NET = '127.10.221';
export const PROXY = `${NET}.1`;
export const UPSTREAMS = { a: `${NET}.10`, b: `${NET}.11`, mirror: `${NET}.13` };
export const DEAD = `${NET}.99`; // nothing listens there: connection refused
export const UPSTREAM_PORT = 8080;

const A = 'outbound|8080||a.test.svc.cluster.local';
const B = 'outbound|8080||b.test.svc.cluster.local';
const MIRROR = 'outbound|8080||mirror.test.svc.cluster.local';

/** A route to cluster B that says its name; `extra` overrides anything. */
function r(name: string, match: RouteMatch[], extra: Partial<Route> = {}): Route {
  return { name, match, action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }] }, headers: { response: { set: { 'x-route': name } } }, ...extra };
}
const fallback = r('fallback', [], { action: { kind: 'route', destinations: [{ cluster: A, weight: 100 }] } });
const vh = (name: string, domains: string[], routes: Route[]): VirtualHost => ({ name, domains, routes });

const matchRoutes: Route[] = [
  r('uri-exact', [{ uri: { exact: '/exact' } }]),
  r('uri-prefix', [{ uri: { prefix: '/prefix/' } }]),
  r('uri-regex', [{ uri: { regex: '/regex/[0-9]+' } }]),
  r('uri-ignore-case', [{ uri: { exact: '/CaseLess' }, ignoreUriCase: true }]),
  r('method', [{ uri: { prefix: '/method' }, method: { exact: 'POST' } }]),
  r('authority', [{ uri: { prefix: '/authority' }, authority: { regex: 'match\\.svc:90[0-9]1' } }]),
  r('scheme-https', [{ uri: { prefix: '/tls-only' }, scheme: { exact: 'https' } }]),
  r('scheme-http', [{ uri: { prefix: '/scheme' }, scheme: { exact: 'http' } }]),
  r('port', [{ uri: { prefix: '/port' }, port: 9081 }]),
  r('header-exact', [{ headers: { 'x-user': { exact: 'jason' } } }]),
  r('header-prefix', [{ headers: { 'x-group': { prefix: 'admin' } } }]),
  r('header-regex', [{ headers: { 'x-id': { regex: '[a-f]+' } } }]),
  r('header-present', [{ headers: { 'x-present': { present: true } } }]),
  r('without-header', [{ uri: { prefix: '/without' }, withoutHeaders: { 'x-block': { exact: 'yes' } } }]),
  r('without-present', [{ uri: { prefix: '/wopresent' }, withoutHeaders: { 'x-flag': { present: true } } }]),
  r('query-exact', [{ uri: { prefix: '/query' }, queryParams: { q: { exact: 'v' } } }]),
  r('query-regex', [{ uri: { prefix: '/query' }, queryParams: { n: { regex: '[0-9]+' } } }]),
  r('query-present', [{ uri: { prefix: '/query' }, queryParams: { p: { present: true } } }]),
  r('labels-mine', [{ uri: { prefix: '/labels-mine' }, sourceLabels: { app: 'productpage' } }]),
  r('labels-other', [{ uri: { prefix: '/labels-other' }, sourceLabels: { app: 'reviews' } }]),
  r('ns-mine', [{ uri: { prefix: '/ns-mine' }, sourceNamespace: 'bookinfo' }]),
  r('ns-other', [{ uri: { prefix: '/ns-other' }, sourceNamespace: 'default' }]),
  r('or', [{ uri: { exact: '/or-a' } }, { uri: { exact: '/or-b' } }]),
  r('and', [{ uri: { exact: '/and' }, headers: { 'x-and': { exact: '1' } } }]),
  fallback,
];

const actionRoutes: Route[] = [
  r('weighted', [{ uri: { prefix: '/weighted' } }], { action: { kind: 'route', destinations: [{ cluster: A, weight: 30 }, { cluster: B, weight: 70 }] } }),
  r('weight-zero', [{ uri: { prefix: '/zero' } }], { action: { kind: 'route', destinations: [{ cluster: A, weight: 0 }, { cluster: B, weight: 100 }] } }),
  r('rewrite-prefix', [{ uri: { prefix: '/old/' } }], { action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], rewrite: { uri: '/new/' } } }),
  r('rewrite-exact', [{ uri: { exact: '/exact-rw' } }], { action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], rewrite: { uri: '/target' } } }),
  r('rewrite-regex-match', [{ uri: { regex: '/rx/.*' } }], { action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], rewrite: { uri: '/whole' } } }),
  r('rewrite-uri-regex', [{ uri: { prefix: '/v1/' } }], {
    action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], rewrite: { uriRegexRewrite: { match: '^/v1/(.*)$', rewrite: '/api/\\1' } } },
  }),
  r('rewrite-authority', [{ uri: { prefix: '/authority-rw' } }], { action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], rewrite: { authority: 'new.host:7000' } } }),
  r('redirect', [{ uri: { prefix: '/moved' } }], { action: { kind: 'redirect', uri: '/new-home', authority: 'other.svc', status: 301 } }),
  r('redirect-scheme-port', [{ uri: { prefix: '/secure' } }], { action: { kind: 'redirect', scheme: 'https', port: 8443, status: 302 } }),
  r('direct', [{ uri: { prefix: '/teapot' } }], { action: { kind: 'direct', status: 418, body: 'short and stout' } }),
  r('header-ops', [{ uri: { prefix: '/headers' } }], {
    action: {
      kind: 'route',
      destinations: [{ cluster: B, weight: 100, headers: { request: { set: { 'x-dest': 'b' } }, response: { add: { 'x-dest-resp': 'yes' } } } }],
    },
    headers: {
      request: { set: { 'x-set': 'set-value', 'x-overwrite': 'new' }, add: { 'x-add': 'added' }, remove: ['x-remove'] },
      response: { set: { 'x-route': 'header-ops' }, remove: ['x-upstream'] },
    },
  }),
  r('mirror', [{ uri: { prefix: '/mirror' } }], { action: { kind: 'route', destinations: [{ cluster: B, weight: 100 }], mirror: { cluster: MIRROR, percentage: 100 } } }),
];

export function routingSnapshot(appSocket: string, version = '1'): ProxySnapshot {
  const node = testNode(PROXY);
  return {
    version,
    node,
    listeners: [
      { name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' },
      { name: 'outbound_http_15002', direction: 'outbound', address: PROXY, port: 15002, protocol: 'http', routeConfigName: 'with_default' },
      { name: 'inbound_9080', direction: 'inbound', address: PROXY, port: 9080, protocol: 'http' },
    ],
    routes: [
      {
        name: 'outbound_http',
        virtualHosts: [
          vh('match', ['match.svc', 'match.svc:9080', 'match.svc:9081'], matchRoutes),
          vh('actions', ['actions.svc:9080'], actionRoutes),
          vh('exact', ['exact.example'], [r('vh-exact', [])]),
          vh('exact-over-wildcard', ['exact.wild.example'], [r('vh-exact-over-wildcard', [])]),
          vh('suffix', ['*.wild.example'], [r('vh-suffix', [])]),
          vh('longer-suffix', ['*.deep.wild.example'], [r('vh-longer-suffix', [])]),
          vh('prefix', ['prefix.*'], [r('vh-prefix', [])]),
          vh('noroute', ['noroute.svc'], [r('only', [{ uri: { exact: '/only' } }])]),
          vh('nocluster', ['nocluster.svc'], [r('nocluster', [], { action: { kind: 'route', destinations: [{ cluster: 'outbound|1||missing.svc', weight: 100 }] } })]),
          vh('empty', ['empty.svc'], [r('empty', [], { action: { kind: 'route', destinations: [{ cluster: 'outbound|1||empty.svc', weight: 100 }] } })]),
          vh('unhealthy', ['unhealthy.svc'], [r('unhealthy', [], { action: { kind: 'route', destinations: [{ cluster: 'outbound|1||unhealthy.svc', weight: 100 }] } })]),
          vh('dead', ['dead.svc'], [r('dead', [], { action: { kind: 'route', destinations: [{ cluster: 'outbound|9||dead.svc', weight: 100 }] } })]),
        ],
      },
      { name: 'with_default', virtualHosts: [vh('exact', ['exact.example'], [r('vh-exact', [])]), vh('default', ['*'], [r('vh-default', [])])] },
    ],
    clusters: [
      cluster(A),
      cluster(B),
      cluster(MIRROR),
      cluster('outbound|1||empty.svc'),
      cluster('outbound|1||unhealthy.svc'),
      cluster('outbound|9||dead.svc'),
      cluster('inbound|9080||'),
    ],
    endpoints: [
      assignment(A, [endpoint(UPSTREAMS.a, UPSTREAM_PORT)]),
      assignment(B, [endpoint(UPSTREAMS.b, UPSTREAM_PORT)]),
      assignment(MIRROR, [endpoint(UPSTREAMS.mirror, UPSTREAM_PORT)]),
      assignment('outbound|1||unhealthy.svc', [endpoint(UPSTREAMS.a, UPSTREAM_PORT, { healthy: false })]),
      assignment('outbound|9||dead.svc', [endpoint(DEAD, 9)]),
      assignment('inbound|9080||', [endpoint('', 0, { socketPath: appSocket, instance: 'app' })]),
    ],
  };
}
