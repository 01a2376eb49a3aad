import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, startUpstream, testNode, viaProxy, type Upstream } from './helpers.js';

// Snapshot updates on a running sidecar: invalid snapshots are rejected whole (the NACK path)
// and routing keeps the last good one; a valid change applies to the next request; listeners
// that did not change keep their sockets and connections; others open and close.

const NET = '127.10.223';
const PROXY = `${NET}.1`;
const ONE = `${NET}.10`;
const TWO = `${NET}.11`;
const node = testNode(PROXY);

function snapshot(version: string, target: string, extraListeners: ProxySnapshot['listeners'] = []): ProxySnapshot {
  const c = 'outbound|80||svc.test.svc.cluster.local';
  return {
    version,
    node,
    listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' }, ...extraListeners],
    routes: [
      {
        name: 'outbound_http',
        virtualHosts: [{ name: 'svc', domains: ['svc', 'svc:80'], routes: [{ name: 'default', match: [{ uri: { prefix: '/' } }], action: { kind: 'route', destinations: [{ cluster: c, weight: 100 }] } }] }],
      },
    ],
    clusters: [cluster(c, 'ROUND_ROBIN'), cluster('tcp-cluster', 'ROUND_ROBIN')],
    endpoints: [assignment(c, [endpoint(target, 8080)]), assignment('tcp-cluster', [endpoint(target, 8080)])],
  };
}

type Mutation = (s: any) => void;
const firstRoute = (s: any) => s.routes[0].virtualHosts[0].routes[0];

const invalid: Array<{ name: string; mutate: Mutation; error: RegExp }> = [
  { name: 'listener names a missing route config', mutate: (s) => (s.listeners[0].routeConfigName = 'nope'), error: /route config "nope" does not exist/ },
  { name: 'tcp listener names a missing cluster', mutate: (s) => s.listeners.push({ name: 't', direction: 'outbound', address: PROXY, port: 3306, protocol: 'tcp', tcpCluster: 'nope' }), error: /cluster "nope" does not exist/ },
  { name: 'port out of range', mutate: (s) => (s.listeners[0].port = 70000), error: /invalid port 70000/ },
  { name: 'two listeners on one address', mutate: (s) => s.listeners.push({ ...s.listeners[0], name: 'other' }), error: /is used by another listener/ },
  { name: 'regex that does not compile', mutate: (s) => (firstRoute(s).match[0].uri = { regex: '/(unclosed' }), error: /invalid regex "\/\(unclosed"/ },
  { name: 'regex with lookahead (not RE2)', mutate: (s) => (firstRoute(s).match[0].headers = { 'x-a': { regex: '(?=a)a' } }), error: /lookaround/ },
  { name: 'uriRegexRewrite that does not compile', mutate: (s) => (firstRoute(s).action.rewrite = { uriRegexRewrite: { match: '[', rewrite: '/' } }), error: /uriRegexRewrite\.match: invalid regex/ },
  { name: 'weight over 100', mutate: (s) => (firstRoute(s).action.destinations[0].weight = 150), error: /invalid weight 150/ },
  { name: 'weights adding up to 0', mutate: (s) => firstRoute(s).action.destinations.push({ cluster: 'x', weight: 0 }) && (firstRoute(s).action.destinations[0].weight = 0), error: /weights add up to 0/ },
  { name: 'StringMatch with two kinds', mutate: (s) => (firstRoute(s).match[0].uri = { exact: '/a', prefix: '/b' }), error: /must be one of/ },
  { name: 'query parameter prefix match', mutate: (s) => (firstRoute(s).match[0].queryParams = { q: { prefix: 'a' } }), error: /exact or regex only/ },
  { name: 'redirect status that is not a redirect', mutate: (s) => (firstRoute(s).action = { kind: 'redirect', status: 200 }), error: /redirect status 200/ },
  { name: 'mirror percentage over 100', mutate: (s) => (firstRoute(s).action.mirror = { cluster: 'c', percentage: 150 }), error: /mirror\.percentage/ },
  { name: 'unknown load balancer', mutate: (s) => (s.clusters[0].lbPolicy = 'FASTEST'), error: /unknown load balancer "FASTEST"/ },
  { name: 'endpoints of a cluster that does not exist', mutate: (s) => s.endpoints.push({ clusterName: 'ghost', endpoints: [] }), error: /cluster "ghost" does not exist/ },
  { name: 'duplicate domain in one route config', mutate: (s) => s.routes[0].virtualHosts.push({ name: 'dup', domains: ['SVC'], routes: [] }), error: /domain "SVC" appears in more than one/ },
  { name: 'wildcard in the middle of a domain', mutate: (s) => (s.routes[0].virtualHosts[0].domains = ['a*b']), error: /wildcard may only be/ },
  { name: 'missing endpoints array', mutate: (s) => delete s.endpoints, error: /endpoints: must be an array/ },
  { name: 'snapshot for another node', mutate: (s) => (s.node = { ...s.node, id: 'someone-else.default' }), error: /snapshot is for "someone-else.default"/ },
];

describe('snapshot updates', { timeout: 60_000 }, () => {
  const sidecar = new Sidecar({ node });
  const upstreams: Upstream[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  /** A keep-alive request through the proxy; returns who answered and the client's local port (same port = same connection). */
  const viaAgent = (port = 15001) =>
    new Promise<{ upstream: string; localPort: number }>((resolve, reject) => {
      const req = request({ host: PROXY, port, path: 'http://svc/', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ upstream: JSON.parse(Buffer.concat(chunks).toString()).upstream, localPort: req.socket!.localPort! }));
      });
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    upstreams.push(await startUpstream('one', { address: ONE, port: 8080 }));
    upstreams.push(await startUpstream('two', { address: TWO, port: 8080 }));
    assert.deepEqual(sidecar.applySnapshot(snapshot('1', ONE)), { ok: true });
    await sidecar.settled();
  });

  after(async () => {
    agent.destroy();
    await sidecar.stop(0);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  for (const row of invalid) {
    test(`rejected: ${row.name}; the last good snapshot keeps routing`, async () => {
      const bad = structuredClone(snapshot('bad', TWO));
      row.mutate(bad);
      const r = sidecar.applySnapshot(bad);
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, row.error);
      assert.equal(sidecar.snapshot?.version, '1');
      const res = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://svc/' });
      assert.equal(res.upstream, 'one');
    });
  }

  test('a valid change applies to the next request; the unchanged listener keeps its connection', async () => {
    const before = await viaAgent();
    assert.equal(before.upstream, 'one');
    assert.deepEqual(sidecar.applySnapshot(snapshot('2', TWO)), { ok: true });
    const afterSwap = await viaAgent();
    assert.equal(afterSwap.upstream, 'two');
    assert.equal(afterSwap.localPort, before.localPort, 'same keep-alive connection across the swap');
    assert.equal(sidecar.snapshot?.version, '2');
  });

  test('listeners open and close to match the snapshot', async () => {
    const extra = { name: 'outbound_http_15003', direction: 'outbound' as const, address: PROXY, port: 15003, protocol: 'http' as const, routeConfigName: 'outbound_http' };
    const tcp = { name: 'outbound_tcp_3306', direction: 'outbound' as const, address: PROXY, port: 3306, protocol: 'tcp' as const, tcpCluster: 'tcp-cluster' };
    assert.deepEqual(sidecar.applySnapshot(snapshot('3', TWO, [extra, tcp])), { ok: true });
    await sidecar.settled();
    assert.equal((await viaProxy({ proxy: { address: PROXY, port: 15003 }, url: 'http://svc/' })).upstream, 'two');
    const kept = await viaAgent();
    assert.deepEqual(sidecar.applySnapshot(snapshot('4', TWO)), { ok: true });
    await sidecar.settled();
    await assert.rejects(viaProxy({ proxy: { address: PROXY, port: 15003 }, url: 'http://svc/' }), /ECONNREFUSED/);
    assert.equal((await viaAgent()).localPort, kept.localPort, '15001 untouched while others closed');
  });

  test('the applied snapshot is a copy: later edits of the caller object change nothing', async () => {
    const s = snapshot('5', ONE);
    assert.deepEqual(sidecar.applySnapshot(s), { ok: true });
    s.endpoints[0].endpoints[0].address = TWO;
    assert.equal((await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://svc/' })).upstream, 'one');
  });
});
