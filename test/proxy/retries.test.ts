import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Route } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../src/platform/local/faulty-upstream.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { assignment, cluster, endpoint, outboundSnapshot, testNode, viaProxy, type ProxyResponse } from './helpers.js';
import { ManualClock } from '../support/manual-clock.js';

// Istio's VirtualService `retries` (RouteAction.retries, Envoy's route retry policy) through a
// real sidecar and real faulty upstreams on loopback. The sidecar runs on a manual clock: every
// backoff is a timer the test sees being armed and fires by advancing the clock, so no test
// sleeps and each backoff can be checked against Envoy's full-jitter bounds.

const NET = '127.10.233';
const PROXY = `${NET}.1`;
const PORT = 8080;
const ONE = 'outbound|8080||one.test.svc.cluster.local';
const TWO = 'outbound|8080||two.test.svc.cluster.local';
const SLOW = 'outbound|8080||slow.test.svc.cluster.local';
const DEAD = `${NET}.20`; // nothing listens there: connection refused
const proxy = { address: PROXY, port: 15001 };

function route(prefix: string, retries?: unknown, extra: { cluster?: string; timeoutMs?: number } = {}): Route {
  const r: Route = { name: prefix.slice(1), match: [{ uri: { prefix } }], action: { kind: 'route', destinations: [{ cluster: extra.cluster ?? ONE, weight: 100 }] } };
  if (r.action.kind === 'route') {
    if (retries !== undefined) r.action.retries = retries;
    if (extra.timeoutMs !== undefined) r.action.timeoutMs = extra.timeoutMs;
  }
  return r;
}

describe('route retries (VirtualService retries)', { timeout: 60_000 }, () => {
  const clock = new ManualClock();
  let sidecar: Sidecar;
  let one: FaultyUpstream;
  let two: FaultyUpstream;
  let slow: FaultyUpstream;

  /** Sends a request and fires each backoff timer the sidecar arms; returns the response and the backoffs. */
  async function send(authority: string, path: string, headers: Record<string, string> = {}): Promise<{ res: ProxyResponse; backoffs: number[] }> {
    const pending = viaProxy({ proxy, url: `http://${authority}${path}`, headers });
    const backoffs: number[] = [];
    for (;;) {
      const next = await Promise.race([pending.then((res) => ({ res })), clock.nextArmed().then((ms) => ({ ms }))]);
      if ('res' in next) return { res: next.res, backoffs };
      backoffs.push(next.ms);
      clock.advance(next.ms);
    }
  }
  const hitsOf = async (u: FaultyUpstream, fn: () => Promise<{ res: ProxyResponse; backoffs: number[] }>) => {
    const before = u.requests;
    const r = await fn();
    return { ...r, hits: u.requests - before };
  };

  before(async () => {
    one = await startFaultyUpstream({ host: `${NET}.10`, port: PORT, name: 'one' });
    two = await startFaultyUpstream({ host: `${NET}.11`, port: PORT, name: 'two' });
    slow = await startFaultyUpstream({ host: `${NET}.12`, port: PORT, name: 'slow', clock });
    sidecar = new Sidecar({ clock, random: seededRandom(7) });
    const snap = outboundSnapshot('1', testNode(PROXY), {
      listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: PROXY, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' }],
      routes: [
        {
          name: 'outbound_http',
          virtualHosts: [
            {
              name: 'one',
              domains: ['one.test:8080'],
              routes: [
                route('/default'),
                route('/off', { attempts: 0 }),
                route('/5xx', { attempts: 2, retryOn: '5xx' }),
                route('/4xx', { attempts: 2, retryOn: 'retriable-4xx' }),
                route('/gw', { attempts: 2, retryOn: 'gateway-error' }),
                route('/backoff', { attempts: 5, retryOn: '5xx' }),
              ],
            },
            { name: 'two', domains: ['two.test:8080'], routes: [route('/', undefined, { cluster: TWO })] },
            { name: 'pertry', domains: ['pertry.test:8080'], routes: [route('/', { attempts: 1, perTryTimeout: '100ms', retryOn: '5xx' }, { cluster: SLOW })] },
            { name: 'slow', domains: ['slow.test:8080'], routes: [route('/', { attempts: 3, retryOn: '5xx,gateway-error,reset' }, { cluster: SLOW, timeoutMs: 1000 })] },
          ],
        },
      ],
      clusters: [cluster(ONE), cluster(TWO, 'LEAST_REQUEST'), cluster(SLOW)],
      endpoints: [
        assignment(ONE, [endpoint(one.address, PORT)]),
        assignment(TWO, [endpoint(DEAD, PORT), endpoint(two.address, PORT)]),
        assignment(SLOW, [endpoint(slow.address, PORT)]),
      ],
    });
    const r = sidecar.applySnapshot(snap);
    assert.equal(r.ok, true, JSON.stringify(r));
    await sidecar.settled();
    assert.equal(sidecar.bindErrors.size, 0);
  });

  after(async () => {
    await sidecar?.stop(0);
    await Promise.all([one?.close(), two?.close(), slow?.close()]);
  });

  test('Istio default policy (no retries block): a 503 is retried twice, then goes downstream with URX', async () => {
    const { res, hits, backoffs } = await hitsOf(one, () => send('one.test:8080', '/default', { 'x-upstream-status': '503' }));
    assert.equal(res.status, 503);
    assert.equal(res.flag, 'URX');
    assert.equal(hits, 3, '1 try + 2 retries');
    assert.equal(backoffs.length, 2);
  });

  test('Istio default policy: a retried 503 followed by a success answers the success, no flag', async () => {
    one.script({ failNext: 1, status: 503 });
    const { res, hits } = await hitsOf(one, () => send('one.test:8080', '/default'));
    one.script({});
    assert.equal(res.status, 200);
    assert.equal(res.flag, undefined);
    assert.equal(hits, 2);
  });

  test('Istio default policy does not retry a 500 (not in its retryOn)', async () => {
    const { res, hits } = await hitsOf(one, () => send('one.test:8080', '/default', { 'x-upstream-status': '500' }));
    assert.equal(res.status, 500);
    assert.equal(res.flag, undefined);
    assert.equal(hits, 1);
  });

  test('attempts: 0 disables Istio default retries', async () => {
    const { res, hits, backoffs } = await hitsOf(one, () => send('one.test:8080', '/off', { 'x-upstream-status': '503' }));
    assert.equal(res.status, 503);
    assert.equal(res.flag, undefined);
    assert.equal(hits, 1);
    assert.equal(backoffs.length, 0);
  });

  test('retryOn 5xx retries a 500 (attempts 2: 3 tries, then URX)', async () => {
    const { res, hits } = await hitsOf(one, () => send('one.test:8080', '/5xx', { 'x-upstream-status': '500' }));
    assert.equal(res.status, 500);
    assert.equal(res.flag, 'URX');
    assert.equal(hits, 3);
  });

  test('retryOn retriable-4xx retries 409 only, not 404', async () => {
    const conflict = await hitsOf(one, () => send('one.test:8080', '/4xx', { 'x-upstream-status': '409' }));
    assert.equal(conflict.res.status, 409);
    assert.equal(conflict.res.flag, 'URX');
    assert.equal(conflict.hits, 3);
    const notFound = await hitsOf(one, () => send('one.test:8080', '/4xx', { 'x-upstream-status': '404' }));
    assert.equal(notFound.res.status, 404);
    assert.equal(notFound.res.flag, undefined);
    assert.equal(notFound.hits, 1);
  });

  test('retryOn gateway-error retries 502/503/504 but not 500', async () => {
    const internal = await hitsOf(one, () => send('one.test:8080', '/gw', { 'x-upstream-status': '500' }));
    assert.equal(internal.res.status, 500);
    assert.equal(internal.hits, 1);
    const badGateway = await hitsOf(one, () => send('one.test:8080', '/gw', { 'x-upstream-status': '502' }));
    assert.equal(badGateway.res.status, 502);
    assert.equal(badGateway.res.flag, 'URX');
    assert.equal(badGateway.hits, 3);
  });

  test('a connect failure (Istio default connect-failure) is retried on another host (previous_hosts)', async () => {
    const before = two.requests;
    let retried = 0;
    for (let i = 0; i < 8; i++) {
      const { res, backoffs } = await send('two.test:8080', `/r${i}`);
      assert.equal(res.status, 200, `request ${i}: ${res.body}`);
      assert.equal(res.flag, undefined);
      assert.equal(res.headers['x-upstream-name'], 'two');
      assert.ok(backoffs.length <= 1, `request ${i}: the dead host is never tried twice (${backoffs.length} retries)`);
      retried += backoffs.length;
    }
    assert.equal(two.requests - before, 8, 'every request reached the live host exactly once');
    assert.ok(retried >= 1, 'the balancer picked the dead host at least once (seeded random)');
  });

  test('backoff: retry n waits within [0, min((2^n - 1) x 25, 250)) ms on the injected clock (seeded random)', async () => {
    const { res, backoffs, hits } = await hitsOf(one, () => send('one.test:8080', '/backoff', { 'x-upstream-status': '503' }));
    assert.equal(res.status, 503);
    assert.equal(res.flag, 'URX');
    assert.equal(hits, 6);
    assert.equal(backoffs.length, 5);
    backoffs.forEach((ms, i) => {
      const ceiling = Math.min(250, (2 ** (i + 1) - 1) * 25);
      assert.ok(Number.isInteger(ms) && ms >= 0 && ms < ceiling, `retry ${i + 1}: ${ms} ms not in [0, ${ceiling})`);
    });
    assert.ok(backoffs.some((ms) => ms > 0), `jitter draws from the random source: ${backoffs.join(',')}`);
  });

  test('a 504 from the route timeout is not retried, even with gateway-error in retryOn', async () => {
    const before = slow.requests;
    const pending = viaProxy({ proxy, url: 'http://slow.test:8080/held', headers: { 'x-upstream-delay-ms': '60000' } });
    assert.equal(await clock.nextArmed(), 1000, 'the route timer');
    assert.equal(await clock.nextArmed(), 60000, 'the upstream holds the request');
    clock.advance(1000);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.flag, 'UT');
    assert.equal(slow.requests - before, 1);
    assert.equal(clock.unconsumed, 0, 'no backoff timer was armed');
  });

  test('perTryTimeout: a try without response headers in time is retried (5xx), then 504 UT,URX', async () => {
    const before = slow.requests;
    const pending = viaProxy({ proxy, url: 'http://pertry.test:8080/held', headers: { 'x-upstream-delay-ms': '60000' } });
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.equal(await clock.nextArmed(), 100, `try ${attempt + 1}: the per-try timer`);
      assert.equal(await clock.nextArmed(), 60000, `try ${attempt + 1}: the upstream holds the request`);
      clock.advance(100);
      if (attempt === 0) {
        const backoff = await clock.nextArmed();
        assert.ok(backoff >= 0 && backoff < 25, `first backoff ${backoff}`);
        clock.advance(backoff);
      }
    }
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.flag, 'UT,URX');
    assert.equal(slow.requests - before, 2);
  });
});
