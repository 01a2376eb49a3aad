import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { startUpstream, viaProxy, type Upstream } from './helpers.js';
import { PROXY, routingSnapshot, UPSTREAM_PORT, UPSTREAMS } from './routing-fixture.js';

// Routing through a real sidecar on real sockets: every RouteMatch field with a request that
// must match and one that must not, virtual host selection, every route action, and the
// response flags of local replies. Weights are decided by an injected random source.

interface Row {
  name: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  port?: number;
  random?: number;
  want: {
    status?: number;
    route?: string;
    upstream?: string;
    flag?: string;
    path?: string;
    upstreamHeaders?: Record<string, string | undefined>;
    responseHeaders?: Record<string, string | undefined>;
    body?: string;
  };
}

const M = 'http://match.svc:9080';
const X = 'http://actions.svc:9080';
const routed = (route: string, upstream = 'b') => ({ route, upstream });
const fallback = { route: 'fallback', upstream: 'a' };

const rows: Row[] = [
  // uri
  { name: 'uri exact matches', url: `${M}/exact`, want: routed('uri-exact') },
  { name: 'uri exact ignores the query', url: `${M}/exact?x=1`, want: routed('uri-exact') },
  { name: 'uri exact does not match a longer path', url: `${M}/exact/more`, want: fallback },
  { name: 'uri exact is case sensitive', url: `${M}/EXACT`, want: fallback },
  { name: 'uri prefix matches', url: `${M}/prefix/x`, want: routed('uri-prefix') },
  { name: 'uri prefix does not match a shorter path', url: `${M}/prefix`, want: fallback },
  { name: 'uri regex matches the whole path', url: `${M}/regex/123`, want: routed('uri-regex') },
  { name: 'uri regex must match the whole path', url: `${M}/regex/123abc`, want: fallback },
  { name: 'ignoreUriCase matches another case', url: `${M}/caseless`, want: routed('uri-ignore-case') },
  // method, authority, scheme, port
  { name: 'method matches', url: `${M}/method`, method: 'POST', body: 'hello', want: { ...routed('method'), body: undefined } },
  { name: 'method does not match', url: `${M}/method`, want: fallback },
  { name: 'authority regex matches host:port', url: 'http://match.svc:9081/authority', want: routed('authority') },
  { name: 'authority does not match', url: `${M}/authority`, want: fallback },
  { name: 'scheme http matches', url: `${M}/scheme`, want: routed('scheme-http') },
  { name: 'scheme https does not match plain http', url: `${M}/tls-only`, want: fallback },
  { name: 'port from the authority matches', url: 'http://match.svc:9081/port', want: routed('port') },
  { name: 'port does not match', url: `${M}/port`, want: fallback },
  { name: 'no port in the authority means 80', url: 'http://match.svc/port', want: fallback },
  // headers
  { name: 'header exact matches', url: `${M}/`, headers: { 'x-user': 'jason' }, want: routed('header-exact') },
  { name: 'header exact does not match', url: `${M}/`, headers: { 'x-user': 'jasonx' }, want: fallback },
  { name: 'header prefix matches', url: `${M}/`, headers: { 'x-group': 'admins' }, want: routed('header-prefix') },
  { name: 'header prefix does not match', url: `${M}/`, headers: { 'x-group': 'users' }, want: fallback },
  { name: 'header regex matches', url: `${M}/`, headers: { 'x-id': 'abc' }, want: routed('header-regex') },
  { name: 'header regex does not match', url: `${M}/`, headers: { 'x-id': 'abcz' }, want: fallback },
  { name: 'header present matches an empty value', url: `${M}/`, headers: { 'x-present': '' }, want: routed('header-present') },
  { name: 'header present does not match a missing header', url: `${M}/`, want: fallback },
  { name: 'withoutHeaders holds when the header is missing', url: `${M}/without`, want: routed('without-header') },
  { name: 'withoutHeaders holds for another value', url: `${M}/without`, headers: { 'x-block': 'no' }, want: routed('without-header') },
  { name: 'withoutHeaders fails for the value', url: `${M}/without`, headers: { 'x-block': 'yes' }, want: fallback },
  { name: 'withoutHeaders present holds when missing', url: `${M}/wopresent`, want: routed('without-present') },
  { name: 'withoutHeaders present fails when present', url: `${M}/wopresent`, headers: { 'x-flag': '1' }, want: fallback },
  // query parameters
  { name: 'query exact matches', url: `${M}/query?q=v`, want: routed('query-exact') },
  { name: 'query exact does not match', url: `${M}/query?q=vv`, want: fallback },
  { name: 'query regex matches', url: `${M}/query?a=1&n=42`, want: routed('query-regex') },
  { name: 'query regex does not match', url: `${M}/query?n=4x`, want: fallback },
  { name: 'query present matches a bare key', url: `${M}/query?p`, want: routed('query-present') },
  { name: 'query present does not match a value named like it', url: `${M}/query?x=p`, want: fallback },
  // source
  { name: 'sourceLabels of this proxy match', url: `${M}/labels-mine`, want: routed('labels-mine') },
  { name: 'sourceLabels of another workload do not', url: `${M}/labels-other`, want: fallback },
  { name: 'sourceNamespace of this proxy matches', url: `${M}/ns-mine`, want: routed('ns-mine') },
  { name: 'sourceNamespace of another namespace does not', url: `${M}/ns-other`, want: fallback },
  // combinations
  { name: 'match alternatives are OR', url: `${M}/or-b`, want: routed('or') },
  { name: 'conditions of one match are AND (all hold)', url: `${M}/and`, headers: { 'x-and': '1' }, want: routed('and') },
  { name: 'conditions of one match are AND (one fails)', url: `${M}/and`, want: fallback },
  { name: 'origin form with a Host header', url: '/exact', headers: { host: 'match.svc' }, want: routed('uri-exact') },
  // virtual hosts
  { name: 'exact domain', url: 'http://exact.example/', want: routed('vh-exact') },
  { name: 'domains match case-insensitively', url: 'http://EXACT.example/', want: routed('vh-exact') },
  { name: 'exact domain wins over a wildcard', url: 'http://exact.wild.example/', want: routed('vh-exact-over-wildcard') },
  { name: 'suffix wildcard', url: 'http://a.b.wild.example/', want: routed('vh-suffix') },
  { name: 'longest suffix wildcard wins', url: 'http://x.deep.wild.example/', want: routed('vh-longer-suffix') },
  { name: 'a wildcard never matches the empty string (NR)', url: 'http://wild.example/', want: { status: 404, flag: 'NR' } },
  { name: 'prefix wildcard', url: 'http://prefix.anything/', want: routed('vh-prefix') },
  { name: 'unknown host: 404 NR', url: 'http://nowhere.svc/', want: { status: 404, flag: 'NR' } },
  { name: '`*` catches unknown hosts', url: 'http://nowhere.svc/', port: 15002, want: routed('vh-default') },
  { name: 'an exact domain wins over `*`', url: 'http://exact.example/', port: 15002, want: routed('vh-exact') },
  { name: 'virtual host without a matching route: 404 NR', url: 'http://noroute.svc/other', want: { status: 404, flag: 'NR' } },
  // actions
  { name: 'weighted: a draw under 30 goes to the 30% destination', url: `${X}/weighted`, random: 0.1, want: { upstream: 'a', route: 'weighted' } },
  { name: 'weighted: a draw over 30 goes to the 70% destination', url: `${X}/weighted`, random: 0.5, want: { upstream: 'b', route: 'weighted' } },
  { name: 'weight 0 never receives traffic', url: `${X}/zero`, random: 0, want: { upstream: 'b' } },
  { name: 'rewrite replaces the matched prefix, keeps the query', url: `${X}/old/page?x=1`, want: { path: '/new/page?x=1', upstreamHeaders: { host: 'actions.svc:9080' } } },
  { name: 'rewrite of an exact match replaces the path', url: `${X}/exact-rw?q=1`, want: { path: '/target?q=1' } },
  { name: 'rewrite of a regex match replaces the path', url: `${X}/rx/any/thing`, want: { path: '/whole' } },
  { name: 'uriRegexRewrite substitutes groups', url: `${X}/v1/users/7`, want: { path: '/api/users/7' } },
  { name: 'authority rewrite sets Host', url: `${X}/authority-rw`, want: { upstreamHeaders: { host: 'new.host:7000' } } },
  { name: 'redirect (301, new authority and uri, query kept)', url: `${X}/moved?a=1`, want: { status: 301, responseHeaders: { location: 'http://other.svc/new-home?a=1' } } },
  { name: 'redirect with scheme and port', url: `${X}/secure/p`, want: { status: 302, responseHeaders: { location: 'https://actions.svc:8443/secure/p' } } },
  { name: 'direct response', url: `${X}/teapot`, want: { status: 418, body: 'short and stout' } },
  {
    name: 'request and response header operations (route and destination)',
    url: `${X}/headers`,
    headers: { 'x-overwrite': 'old', 'x-add': 'mine', 'x-remove': 'gone' },
    want: {
      upstream: 'b',
      upstreamHeaders: { 'x-set': 'set-value', 'x-overwrite': 'new', 'x-add': 'mine, added', 'x-remove': undefined, 'x-dest': 'b' },
      responseHeaders: { 'x-route': 'header-ops', 'x-upstream': undefined, 'x-dest-resp': 'yes' },
    },
  },
  // local replies
  { name: 'route to a missing cluster: 503 NC', url: 'http://nocluster.svc/', want: { status: 503, flag: 'NC' } },
  { name: 'cluster without endpoints: 503 UH', url: 'http://empty.svc/', want: { status: 503, flag: 'UH' } },
  { name: 'cluster whose endpoints are unhealthy: 503 UH', url: 'http://unhealthy.svc/', want: { status: 503, flag: 'UH' } },
  // Istio's default retry policy retries connect failures twice: Envoy logs UF,URX.
  { name: 'connection refused: 503 UF, retried by the default policy until URX', url: 'http://dead.svc/', want: { status: 503, flag: 'UF,URX' } },
  { name: 'connection refused with a request body (kept and retried by the default policy): 503 UF,URX', url: 'http://dead.svc/', method: 'POST', body: 'payload', want: { status: 503, flag: 'UF,URX' } },
  // inbound
  { name: 'inbound listener routes to the app socket', url: '/in', headers: { host: 'reviews:9080' }, port: 9080, want: { upstream: 'app', path: '/in' } },
];

describe('routing', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshmedic-routing-'));
  let nextRandom = 0.5;
  const sidecar = new Sidecar({ random: () => nextRandom });
  const upstreams: Upstream[] = [];
  let mirror: Upstream;

  before(async () => {
    upstreams.push(await startUpstream('a', { address: UPSTREAMS.a, port: UPSTREAM_PORT }));
    upstreams.push(await startUpstream('b', { address: UPSTREAMS.b, port: UPSTREAM_PORT }));
    mirror = await startUpstream('mirror', { address: UPSTREAMS.mirror, port: UPSTREAM_PORT });
    upstreams.push(mirror);
    upstreams.push(await startUpstream('app', { socketPath: join(dir, 'app.sock') }));
    const r = sidecar.applySnapshot(routingSnapshot(join(dir, 'app.sock')));
    assert.deepEqual(r, { ok: true });
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0, [...sidecar.bindErrors.values()].join('; '));
  });

  after(async () => {
    await sidecar.stop(0);
    await Promise.all(upstreams.map((u) => u.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const row of rows) {
    test(row.name, async () => {
      nextRandom = row.random ?? 0.5;
      const res = await viaProxy({ proxy: { address: PROXY, port: row.port ?? 15001 }, url: row.url, method: row.method, headers: row.headers, body: row.body });
      const w = row.want;
      assert.equal(res.status, w.status ?? 200, res.body);
      if (w.flag !== undefined) assert.equal(res.flag, w.flag);
      else assert.equal(res.flag, undefined, 'no flag on a proxied response');
      if (w.upstream !== undefined) assert.equal(res.upstream, w.upstream);
      if (w.route !== undefined) assert.equal(res.headers['x-route'], w.route);
      if (w.path !== undefined) assert.equal(res.echo?.url, w.path);
      for (const [k, v] of Object.entries(w.upstreamHeaders ?? {})) assert.equal(res.echo?.headers[k], v, `upstream header ${k}`);
      for (const [k, v] of Object.entries(w.responseHeaders ?? {})) assert.equal(res.headers[k], v, `response header ${k}`);
      if (w.body !== undefined) assert.equal(res.body, w.body);
      if (row.body !== undefined && res.echo) assert.equal(res.echo.body, row.body, 'request body reaches the upstream');
      if (res.flag) assert.equal(res.headers.server, 'meshmedic');
    });
  }

  test('mirror: the mirror upstream receives a copy with -shadow appended to the host', async () => {
    const copy = mirror.next();
    const res = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: `${X}/mirror/p?q=1`, method: 'POST', body: 'mirrored body' });
    assert.equal(res.upstream, 'b');
    assert.equal(res.echo?.body, 'mirrored body');
    const seen = await copy;
    assert.equal(seen.headers.host, 'actions.svc-shadow:9080');
    assert.equal(seen.url, '/mirror/p?q=1');
    assert.equal(seen.body, 'mirrored body');
  });

  test('HTTP/1.1 upstream connection lost after the response started: the client is cut off, flag UC (Envoy: connection termination)', async () => {
    const before = sidecar.stats.get('http.response_flags.UC');
    await assert.rejects(viaProxy({ proxy: { address: PROXY, port: 15001 }, url: `${M}/reset-mid` }));
    // The stream completes when the downstream socket is destroyed; wait for that event, not for time.
    while (sidecar.stats.get('http.response_flags.UC') === before) await new Promise((r) => setImmediate(r));
    assert.equal(sidecar.stats.get('http.response_flags.UC'), before + 1);
  });

  test('client gone mid-request: the upstream request is aborted, flag DC', async () => {
    const a = upstreams[0];
    const arrived = a.next();
    const before = sidecar.stats.get('http.response_flags.DC');
    const req = request({ host: PROXY, port: 15001, path: `${M}/hang`, agent: false });
    req.on('error', () => undefined);
    req.end();
    await arrived;
    const host = sidecar.current!.clusters.get('outbound|8080||a.test.svc.cluster.local')!.hosts[0];
    assert.equal(host.active, 1);
    req.destroy();
    while (sidecar.stats.get('http.response_flags.DC') === before) await new Promise((r) => setImmediate(r));
    assert.equal(host.active, 0, 'the host no longer counts the request');
    for (const release of a.held.splice(0)) release();
  });

  test('large bodies stream both ways', async () => {
    const upload = 'u'.repeat(3 * 1024 * 1024);
    const res = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: `${M}/big/${8 * 1024 * 1024}`, method: 'PUT', body: upload });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-received-bytes'], String(upload.length));
    assert.equal(res.body.length, 8 * 1024 * 1024);
  });

  test('stats count requests by flag', () => {
    assert.ok(sidecar.stats.get('http.response_flags.NR') >= 3);
    assert.ok(sidecar.stats.get('http.response_flags.UF,URX') >= 2);
    assert.ok(sidecar.stats.get('http.response_flags.-') >= 40);
  });
});
