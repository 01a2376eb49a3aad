import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, Endpoint, ProxySnapshot, Route } from '../../src/api/snapshot.js';
import { seededRandom, type RandomSource } from '../../src/proxy/clock.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, outboundSnapshot, startUpstream, testNode, viaProxy, type ProxyRequest, type Upstream } from './helpers.js';

// Load balancing through a real sidecar to real upstreams: each policy of DestinationRule's
// loadBalancer, with the random source injected so RANDOM and LEAST_REQUEST are deterministic.

const NET = '127.10.222';
const PROXY = `${NET}.1`;
const E = [10, 11, 12, 13].map((i) => `${NET}.${i}`); // e0..e3; e3 is marked unhealthy where used
const PORT = 8080;
const names = ['e0', 'e1', 'e2', 'e3'];

function lbSnapshot(version: string, endpointsFor: (svc: string) => Endpoint[] = defaultEndpoints): ProxySnapshot {
  const svcs: Array<[string, Partial<Cluster> & Pick<Cluster, 'lbPolicy'>]> = [
    ['rr', { lbPolicy: 'ROUND_ROBIN' }],
    ['rr-weighted', { lbPolicy: 'ROUND_ROBIN' }],
    ['random', { lbPolicy: 'RANDOM' }],
    ['lr', { lbPolicy: 'LEAST_REQUEST' }],
    ['hash-header', { lbPolicy: 'RING_HASH', hashPolicy: { header: 'x-user' } }],
    ['hash-cookie', { lbPolicy: 'RING_HASH', hashPolicy: { cookie: { name: 'session', ttlMs: 60_000, path: '/' } } }],
    ['hash-cookie-no-ttl', { lbPolicy: 'RING_HASH', hashPolicy: { cookie: { name: 'session' } } }],
    ['hash-query', { lbPolicy: 'RING_HASH', hashPolicy: { queryParameter: 'user' } }],
    ['hash-source', { lbPolicy: 'RING_HASH', hashPolicy: { sourceIp: true } }],
    ['maglev', { lbPolicy: 'MAGLEV', hashPolicy: { header: 'x-user' } }],
  ];
  const clusterOf = (svc: string) => `outbound|80||${svc}.lb.svc.cluster.local`;
  const routes: Route[] = [];
  return outboundSnapshot(version, testNode(PROXY), {
    routes: [
      {
        name: 'outbound_http',
        virtualHosts: svcs.map(([svc]) => ({
          name: svc,
          domains: [svc],
          routes: [...routes, { name: svc, match: [], action: { kind: 'route', destinations: [{ cluster: clusterOf(svc), weight: 100 }] } }],
        })),
      },
    ],
    clusters: svcs.map(([svc, c]) => cluster(clusterOf(svc), c.lbPolicy, c)),
    endpoints: svcs.map(([svc]) => assignment(clusterOf(svc), endpointsFor(svc))),
  });
}

function defaultEndpoints(svc: string): Endpoint[] {
  if (svc === 'rr') return [endpoint(E[0], PORT), endpoint(E[1], PORT), endpoint(E[2], PORT), endpoint(E[3], PORT, { healthy: false })];
  if (svc === 'rr-weighted') return [endpoint(E[0], PORT, { weight: 3 }), endpoint(E[1], PORT, { weight: 1 })];
  if (svc === 'lr') return [endpoint(E[0], PORT), endpoint(E[1], PORT)];
  return [endpoint(E[0], PORT), endpoint(E[1], PORT), endpoint(E[2], PORT)];
}

describe('load balancing', { timeout: 60_000 }, () => {
  let random: RandomSource = seededRandom(1);
  const sidecar = new Sidecar({ random: () => random() });
  const upstreams: Upstream[] = [];

  const send = async (svc: string, extra: Partial<ProxyRequest> = {}) => {
    const res = await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: `http://${svc}/`, ...extra });
    assert.equal(res.status, 200, res.body);
    return res;
  };
  const who = async (svc: string, extra: Partial<ProxyRequest> = {}) => (await send(svc, extra)).upstream!;
  const tally = (xs: string[]) => Object.fromEntries(names.map((n) => [n, xs.filter((x) => x === n).length]).filter(([, c]) => c));

  before(async () => {
    for (let i = 0; i < E.length; i++) upstreams.push(await startUpstream(names[i], { address: E[i], port: PORT }));
    assert.deepEqual(sidecar.applySnapshot(lbSnapshot('1')), { ok: true });
    await sidecar.settled();
  });

  after(async () => {
    await sidecar.stop(0);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  test('ROUND_ROBIN spreads evenly and skips the unhealthy endpoint', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) seen.push(await who('rr'));
    assert.deepEqual(tally(seen), { e0: 10, e1: 10, e2: 10 });
  });

  test('ROUND_ROBIN follows endpoint weights (3:1)', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push(await who('rr-weighted'));
    assert.deepEqual(tally(seen), { e0: 30, e1: 10 });
  });

  test('RANDOM picks with the injected random source', async () => {
    random = seededRandom(42);
    const expected = seededRandom(42);
    const seen: string[] = [];
    const want: string[] = [];
    for (let i = 0; i < 30; i++) {
      seen.push(await who('random'));
      want.push(names[Math.floor(expected() * 3)]);
    }
    assert.deepEqual(seen, want);
    assert.equal(Object.keys(tally(seen)).length, 3, 'every endpoint gets some');
  });

  test('LEAST_REQUEST prefers the endpoint with fewer active requests', async () => {
    random = seededRandom(7);
    const busy = new Promise<string>((resolve) => {
      const [a, b] = upstreams;
      void a.next().then((r) => resolve(r.upstream));
      void b.next().then((r) => resolve(r.upstream));
    });
    const hanging = send('lr', { url: 'http://lr/hang' });
    const busyName = await busy;
    const idleName = busyName === 'e0' ? 'e1' : 'e0';
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await who('lr'));
    assert.deepEqual(tally(seen), { [idleName]: 10 });
    for (const u of upstreams) for (const release of u.held.splice(0)) release();
    assert.equal((await hanging).upstream, busyName);
  });

  for (const [svc, keyed] of [
    ['hash-header', (k: string) => ({ headers: { 'x-user': k } })],
    ['hash-query', (k: string) => ({ url: `http://hash-query/?a=b&user=${k}` })],
    ['maglev', (k: string) => ({ headers: { 'x-user': k } })],
    ['hash-cookie', (k: string) => ({ headers: { cookie: `other=1; session=${k}` } })],
  ] as const) {
    test(`consistent hash (${svc}): one key, one endpoint; different keys spread`, async () => {
      for (const key of ['alice', 'bob', 'carol']) {
        const first = await who(svc, keyed(key));
        for (let i = 0; i < 5; i++) assert.equal(await who(svc, keyed(key)), first, `key ${key}`);
      }
      const spread = new Set<string>();
      for (let i = 0; i < 30; i++) spread.add(await who(svc, keyed(`user-${i}`)));
      assert.ok(spread.size >= 2, `30 keys went to ${[...spread].join(',')}`);
    });
  }

  test('consistent hash by source IP: one client address, one endpoint; addresses spread', async () => {
    const spread = new Set<string>();
    for (let i = 100; i < 130; i++) {
      const localAddress = `${NET}.${i}`;
      const first = await who('hash-source', { localAddress });
      assert.equal(await who('hash-source', { localAddress }), first);
      spread.add(first);
    }
    assert.ok(spread.size >= 2);
  });

  test('cookie with ttl: generated and set when missing, then sticky', async () => {
    const first = await send('hash-cookie', { headers: { 'x-test': 'no-cookie' } });
    const setCookie = String(first.headers['set-cookie']);
    assert.match(setCookie, /^session="[0-9a-f]+"; Max-Age=60; Path=\/; HttpOnly$/);
    const cookie = setCookie.split(';')[0];
    for (let i = 0; i < 5; i++) {
      const r = await send('hash-cookie', { headers: { cookie } });
      assert.equal(r.upstream, first.upstream, 'the generated cookie hashes to the endpoint that answered');
      assert.equal(r.headers['set-cookie'], undefined, 'no new cookie once the client has one');
    }
  });

  test('cookie without ttl: no cookie is generated (no key, any endpoint)', async () => {
    const r = await send('hash-cookie-no-ttl');
    assert.equal(r.headers['set-cookie'], undefined);
  });

  test('ring hash: removing an endpoint moves its keys and few others', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const before = new Map<string, string>();
    for (const k of keys) before.set(k, await who('hash-header', { headers: { 'x-user': k } }));
    const without2 = (svc: string) => defaultEndpoints(svc).filter((e) => !(svc === 'hash-header' && e.address === E[2]));
    assert.deepEqual(sidecar.applySnapshot(lbSnapshot('2', without2)), { ok: true });
    try {
      let stayed = 0;
      let survivors = 0;
      for (const k of keys) {
        const now = await who('hash-header', { headers: { 'x-user': k } });
        assert.notEqual(now, 'e2');
        if (before.get(k) === 'e2') continue;
        survivors++;
        if (now === before.get(k)) stayed++;
      }
      // Envoy's ring keeps its size, so survivors gain points and a few of their keys change hands.
      assert.ok(stayed >= survivors * 0.75, `${stayed} of ${survivors} keys stayed`);
    } finally {
      assert.deepEqual(sidecar.applySnapshot(lbSnapshot('3')), { ok: true });
    }
  });
});
