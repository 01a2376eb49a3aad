import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import type { Route } from '../../src/api/snapshot.js';
import { seededRandom } from '../../src/proxy/clock.js';
import { faultInjectionFilter } from '../../src/proxy/filters/fault-injection.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, outboundSnapshot, startUpstream, testNode, viaProxy, type Upstream } from './helpers.js';
import { ManualClock } from '../support/manual-clock.js';
import { recorder } from './helpers.js';

// Istio's VirtualService `fault` through a real sidecar and a real upstream on loopback. The
// sidecar gets a manual clock (a delay ends when the test advances it) and a seeded random
// source (which requests a percentage picks is known in advance). A recording filter after the
// fault filter reads each stream's final flag and details.

const NET = '127.10.229';
const PROXY = `${NET}.1`;
const UPSTREAM = `${NET}.10`;
const PORT = 8080;
const CLUSTER = 'outbound|8080||svc.test.svc.cluster.local';
const proxy = { address: PROXY, port: 15001 };

function faultRoute(prefix: string, fault: unknown): Route {
  return { name: prefix.slice(1), match: [{ uri: { prefix } }], action: { kind: 'route', destinations: [{ cluster: CLUSTER, weight: 100 }], fault } };
}

const routes: Route[] = [
  faultRoute('/abort-all', { abort: { httpStatus: 503, percentage: { value: 100 } } }),
  faultRoute('/abort-none', { abort: { httpStatus: 418, percentage: { value: 0 } } }),
  faultRoute('/abort-half', { abort: { httpStatus: 503, percentage: { value: 50 } } }),
  faultRoute('/abort-default', { abort: { httpStatus: 429 } }),
  faultRoute('/delay-default', { delay: { fixedDelay: '100ms' } }),
  faultRoute('/delay', { delay: { fixedDelay: '5s', percentage: { value: 100 } } }),
  faultRoute('/both', { delay: { fixedDelay: '100ms' }, abort: { httpStatus: 500 } }),
  faultRoute('/grpc-abort', { abort: { grpcStatus: 'UNAVAILABLE' } }),
  { name: 'plain', match: [], action: { kind: 'route', destinations: [{ cluster: CLUSTER, weight: 100 }] } },
];

describe('fault injection (VirtualService fault)', { timeout: 60_000 }, () => {
  let upstream: Upstream;
  let sidecar: Sidecar;
  const clock = new ManualClock();
  let rng = seededRandom(1);
  let draws = 0;
  const rec = recorder();
  const get = (path: string) => viaProxy({ proxy, url: `http://svc.test:8080${path}` });

  before(async () => {
    upstream = await startUpstream('up', { address: UPSTREAM, port: PORT });
    sidecar = new Sidecar({ clock, random: () => (draws++, rng()), httpFilters: [faultInjectionFilter, rec.factory] });
    const node = testNode(PROXY);
    const snap = outboundSnapshot('1', node, {
      listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
      routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'svc', domains: ['svc.test:8080'], routes }] }],
      clusters: [cluster(CLUSTER)],
      endpoints: [assignment(CLUSTER, [endpoint(UPSTREAM, PORT)])],
    });
    const r = sidecar.applySnapshot(snap);
    assert.equal(r.ok, true, JSON.stringify(r));
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0);
  });

  after(async () => {
    await sidecar?.stop(0);
    await upstream?.close();
  });

  const upstreamSaw = (prefix: string) => upstream.received.filter((x) => x.url === prefix || x.url.startsWith(prefix + '/')).length;

  test('abort at 100%: local reply with the status, flag FI, body "fault filter abort"; the upstream never sees it', async () => {
    const completed = rec.next();
    const r = await get('/abort-all');
    assert.equal(r.status, 503);
    assert.equal(r.flag, 'FI');
    assert.equal(r.body, 'fault filter abort');
    assert.equal(r.headers.server, 'meshmedic');
    assert.deepEqual(await completed, { path: '/abort-all', status: 503, flag: 'FI', details: 'fault_filter_abort' });
    assert.equal(upstreamSaw('/abort-all'), 0);
  });

  test('abort at 0% never aborts', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await get('/abort-none');
      assert.equal(r.status, 200);
      assert.equal(r.upstream, 'up');
      assert.equal(r.flag, undefined);
    }
    assert.equal(upstreamSaw('/abort-none'), 20);
  });

  test('abort at 50% with a seeded random source aborts exactly the requests whose draw is below 0.5', async () => {
    const N = 40;
    rng = seededRandom(2024);
    draws = 0;
    const replay = seededRandom(2024);
    let expected = 0;
    for (let i = 0; i < N; i++) if (replay() * 100 < 50) expected++;
    let aborted = 0;
    for (let i = 0; i < N; i++) {
      const r = await get(`/abort-half/${i}`);
      if (r.status === 503) {
        assert.equal(r.flag, 'FI');
        aborted++;
      } else assert.equal(r.upstream, 'up');
    }
    assert.equal(draws, N, 'one draw per request, nothing else drew');
    assert.equal(aborted, expected);
    assert.ok(expected > 0 && expected < N, `the seed gives a mix (${expected}/${N})`);
    assert.equal(upstreamSaw('/abort-half'), N - expected);
  });

  test('abort without a percentage applies to every request', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await get('/abort-default');
      assert.equal(r.status, 429);
      assert.equal(r.flag, 'FI');
    }
    assert.equal(upstreamSaw('/abort-default'), 0);
  });

  test('delay: the request reaches the upstream only once the clock has advanced by fixedDelay; flag DI', async () => {
    const before = clock.scheduled.length;
    const completed = rec.next();
    const pending = get('/delay');
    await clock.untilPending(1);
    assert.equal(clock.scheduled[before], 5000);
    assert.equal(upstreamSaw('/delay'), 0);
    const arrived = upstream.next();
    clock.advance(4999);
    assert.equal(clock.pending, 1, 'still held 1 ms before the delay ends');
    assert.equal(upstreamSaw('/delay'), 0);
    clock.advance(1);
    assert.equal(clock.pending, 0);
    assert.equal((await arrived).url, '/delay');
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.upstream, 'up');
    const d = await completed;
    assert.equal(d.flag, 'DI');
    assert.equal(d.details, 'via_upstream');
  });

  test('delay without a percentage applies to every request', async () => {
    const pending = get('/delay-default');
    await clock.untilPending(1);
    assert.equal(upstreamSaw('/delay-default'), 0);
    clock.advance(100);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(upstreamSaw('/delay-default'), 1);
  });

  test('delay and abort together: held for the delay, then aborted (flags DI,FI); the upstream never sees it', async () => {
    const completed = rec.next();
    const pending = get('/both');
    await clock.untilPending(1);
    clock.advance(100);
    const r = await pending;
    assert.equal(r.status, 500);
    assert.equal(r.flag, 'DI,FI');
    assert.equal(r.body, 'fault filter abort');
    assert.equal((await completed).flag, 'DI,FI');
    assert.equal(upstreamSaw('/both'), 0);
  });

  test('a client that leaves during the delay cancels the timer', async () => {
    const completed = rec.next();
    const req = request({ host: PROXY, port: 15001, path: 'http://svc.test:8080/delay', headers: { host: 'svc.test:8080' }, agent: false });
    req.on('error', () => undefined);
    req.end();
    await clock.untilPending(1);
    req.destroy();
    const d = await completed;
    assert.equal(d.path, '/delay');
    assert.equal(clock.pending, 0);
    assert.equal(upstreamSaw('/delay'), 1, 'only the earlier delayed request reached the upstream');
  });
});

describe('fault injection over h2c: gRPC abort', { timeout: 60_000 }, () => {
  let upstream: Upstream;
  let sidecar: Sidecar;
  let client: ClientHttp2Session;
  const PROXY2 = `${NET}.2`;
  const UPSTREAM2 = `${NET}.11`;

  before(async () => {
    upstream = await startUpstream('up2', { address: UPSTREAM2, port: PORT });
    sidecar = new Sidecar({ random: seededRandom(3) });
    const snap = outboundSnapshot('1', testNode(PROXY2), {
      listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY2, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
      routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'svc', domains: ['svc.test:8080'], routes }] }],
      clusters: [cluster(CLUSTER)],
      endpoints: [assignment(CLUSTER, [endpoint(UPSTREAM2, PORT)])],
    });
    assert.equal(sidecar.applySnapshot(snap).ok, true);
    await sidecar.settled();
    client = connect(`http://${PROXY2}:15001`);
  });

  after(async () => {
    client?.destroy();
    await sidecar?.stop(0);
    await upstream?.close();
  });

  test('grpcStatus: HTTP 200 with grpc-status 14 and grpc-message, flag FI (the default filters include the fault filter)', async () => {
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ':path': '/grpc-abort/Svc/Call', ':authority': 'svc.test:8080', 'content-type': 'application/grpc', te: 'trailers' });
      let got: Record<string, unknown> = {};
      req.on('response', (h) => (got = { ...h }));
      req.on('trailers', (t) => (got = { ...got, ...t }));
      req.on('error', reject);
      req.on('end', () => resolve(got));
      req.resume();
      req.end();
    });
    assert.equal(headers[':status'], 200);
    assert.equal(headers['grpc-status'], '14');
    assert.equal(decodeURIComponent(String(headers['grpc-message'])), 'fault filter abort');
    assert.equal(headers['x-meshmedic-flags'], 'FI');
    assert.equal(upstream.received.length, 0);
  });
});
