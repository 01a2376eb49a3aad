import assert from 'node:assert/strict';
import type { Cluster, Route } from '../../../src/api/snapshot.js';
import { Sidecar } from '../../../src/proxy/sidecar.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../../src/platform/local/faulty-upstream.js';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { assignment, cluster, endpoint, outboundSnapshot, testNode, viaProxy, type ProxyResponse } from '../helpers.js';
import { ManualClock } from '../../support/manual-clock.js';
import { row, setup, table, teardown } from './table.js';

// DestinationRule connectionPool (Envoy's circuit breakers) through a real sidecar and real
// upstreams on loopback. The upstreams run on their own manual clock: a request that asks for a
// delay is held there until the test advances that clock, so "concurrent load" is exact: which
// requests are in flight, which wait, which overflow, with no sleeps.

const NET = '127.10.180';
const PROXY = `${NET}.1`;
const PORT = 8080;
const proxy = { address: PROXY, port: 15001 };
const HOLD = { 'x-upstream-delay-ms': '1000' };

function svc(name: string): string {
  return `outbound|8080||${name}.test.svc.cluster.local`;
}

function route(name: string, retries?: unknown): Route {
  const r: Route = { name, match: [], action: { kind: 'route', destinations: [{ cluster: svc(name), weight: 100 }] } };
  if (retries !== undefined && r.action.kind === 'route') r.action.retries = retries;
  return r;
}

/** Resolves when `n` of the promises have settled, with their values in settling order. */
function firstN<T>(promises: Promise<T>[], n: number): Promise<T[]> {
  const out: T[] = [];
  return new Promise((resolve, reject) => {
    for (const p of promises)
      p.then((v) => {
        out.push(v);
        if (out.length === n) resolve(out);
      }, reject);
  });
}

table('DestinationRule connectionPool (Envoy circuit breakers)', () => {
  const upstreamClock = new ManualClock();
  const clock = new ManualClock();
  let sidecar: Sidecar;
  const upstreams: FaultyUpstream[] = [];
  const pools: Record<string, unknown> = {
    pending: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } },
    requests: { http: { http2MaxRequests: 2 } },
    retries: { http: { maxRetries: 1 } },
    perconn: { http: { maxRequestsPerConnection: 1 } },
    unlimited: undefined,
    idle: { http: { idleTimeout: '50ms' } },
    guarded: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } },
  };
  const outliers: Record<string, unknown> = { guarded: { consecutive5xxErrors: 1, maxEjectionPercent: 100 } };
  const names = Object.keys(pools);
  const stat = (name: string, counter: string) => sidecar.stats.get(`cluster.${svc(name)}.${counter}`);
  const send = (name: string, headers: Record<string, string> = {}) => viaProxy({ proxy, url: `http://${name}.test:8080/`, headers });

  setup(async () => {
    for (let i = 0; i < names.length; i++) upstreams.push(await startFaultyUpstream({ host: `${NET}.${10 + i}`, port: PORT, name: names[i], clock: upstreamClock }));
    sidecar = new Sidecar({ clock, random: seededRandom(3) });
    const clusters: Cluster[] = names.map((n) => cluster(svc(n), 'ROUND_ROBIN', { ...(pools[n] !== undefined && { connectionPool: pools[n] }), ...(outliers[n] !== undefined && { outlierDetection: outliers[n] }) }));
    const snap = outboundSnapshot('1', testNode(PROXY), {
      routes: [{ name: 'outbound_http', virtualHosts: names.map((n) => ({ name: n, domains: [`${n}.test:8080`], routes: [route(n, n === 'retries' ? { attempts: 3, retryOn: '5xx' } : undefined)] })) }],
      clusters,
      endpoints: names.map((n, i) => assignment(svc(n), [endpoint(`${NET}.${10 + i}`, PORT)])),
    });
    assert.deepEqual(sidecar.applySnapshot(snap), { ok: true });
    await sidecar.settled();
  });

  teardown(async () => {
    await sidecar.stop(0);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  row({ id: 'CP-01', field: 'DestinationRule.trafficPolicy.connectionPool.http.http1MaxPendingRequests', rule: 'Envoy circuit breakers: with maxConnections 1 and max_pending_requests 1, one request is in flight, one waits for the connection, the rest get 503 UO with x-envoy-overloaded, counted as upstream_rq_pending_overflow' }, async () => {
    const hitsBefore = upstreams[names.indexOf('pending')].requests;
    const first = send('pending', HOLD);
    await upstreamClock.untilPending(1); // the one connection carries the first request
    const rest = Array.from({ length: 9 }, () => send('pending', HOLD));
    const overflowed = await firstN(rest, 8); // one of the nine waits for the connection
    for (const r of overflowed) {
      assert.equal(r.status, 503);
      assert.equal(r.flag, 'UO');
      assert.equal(r.headers['x-envoy-overloaded'], 'true');
      assert.match(r.body, /reset reason: overflow/);
    }
    upstreamClock.advance(1000); // the first response ends; the waiting request takes the connection
    assert.equal((await first).status, 200);
    await upstreamClock.untilPending(1);
    upstreamClock.advance(1000);
    const all: ProxyResponse[] = await Promise.all(rest);
    assert.equal(all.filter((r) => r.status === 200).length, 1);
    assert.equal(upstreams[names.indexOf('pending')].requests - hitsBefore, 2, 'overflowed requests never reached the upstream and were not retried');
    assert.equal(stat('pending', 'upstream_rq_pending_overflow'), 8);
    assert.equal(stat('pending', 'upstream_cx_overflow'), 9); // every request after the first found the connection limit reached
    assert.ok(sidecar.stats.get('http.response_flags.UO') >= 8);
  });

  row({ id: 'CP-02', field: 'DestinationRule.trafficPolicy.connectionPool', rule: 'Envoy: an overflow is the proxy\'s own refusal: never counted against the host by outlier detection (consecutive5xxErrors 1 does not eject it)' }, async () => {
    const held = send('guarded', HOLD);
    await upstreamClock.untilPending(1);
    const rest = Array.from({ length: 5 }, () => send('guarded'));
    const overflowed = await firstN(rest, 4);
    assert.ok(overflowed.every((r) => r.status === 503 && r.flag === 'UO'));
    upstreamClock.advance(1000);
    await Promise.all([held, ...rest]);
    assert.equal(stat('guarded', 'outlier_detection.ejections_enforced_total'), 0);
    assert.equal((await send('guarded')).status, 200, 'the host still takes traffic');
  });

  row({ id: 'CP-08', field: 'DestinationRule.trafficPolicy.connectionPool.http.idleTimeout', rule: 'Envoy idle_timeout of the upstream connection pool: an idle keep-alive connection is closed by the proxy after http.idleTimeout' }, async () => {
    const u = upstreams[names.indexOf('idle')];
    assert.equal((await send('idle')).status, 200);
    assert.equal(u.openConnections, 1, 'kept alive after the response');
    await u.nextConnectionClose(); // the proxy closes it once idle for 50 ms (the socket's own timer)
    assert.equal(u.openConnections, 0);
    assert.equal((await send('idle')).status, 200, 'the next request opens a new connection');
    assert.equal(u.connections, 2);
  });

  row({ id: 'CP-07', field: 'DestinationRule.trafficPolicy.connectionPool', rule: 'Istio defaults: every limit is effectively unlimited (2^32-1): 20 concurrent requests to one host, none refused' }, async () => {
    const all = Array.from({ length: 20 }, () => send('unlimited', HOLD));
    await upstreamClock.untilPending(20);
    upstreamClock.advance(1000);
    const res = await Promise.all(all);
    assert.deepEqual([...new Set(res.map((r) => r.status))], [200]);
    assert.equal(stat('unlimited', 'upstream_rq_pending_overflow') + stat('unlimited', 'upstream_cx_overflow') + stat('unlimited', 'upstream_rq_overflow'), 0);
  });

  row({ id: 'CP-03', field: 'DestinationRule.trafficPolicy.connectionPool.http.http2MaxRequests', rule: 'Envoy max_requests: requests in flight to the cluster are limited for HTTP/1.1 too; the third of 2 allowed gets 503 UO (upstream_rq_overflow)' }, async () => {
    const held = [send('requests', HOLD), send('requests', HOLD)];
    await upstreamClock.untilPending(2);
    const third = await send('requests');
    assert.deepEqual([third.status, third.flag, third.headers['x-envoy-overloaded']], [503, 'UO', 'true']);
    assert.equal(stat('requests', 'upstream_rq_overflow'), 1);
    upstreamClock.advance(1000);
    assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200]);
    assert.equal((await send('requests')).status, 200); // the limit counts what is in flight, not what was
  });

  row({ id: 'CP-04', field: 'DestinationRule.trafficPolicy.connectionPool.http.maxRetries', rule: 'Envoy max_retries: a retry beyond the outstanding-retry budget is refused; its response passes through with flag UO (upstream_rq_retry_overflow)' }, async () => {
    upstreams[names.indexOf('retries')].script({ failNext: 2, status: 503 });
    const both = [send('retries'), send('retries')];
    // Both first tries get 503: the first judged takes the one retry (outstanding during its backoff), the other is refused.
    const [refused] = await firstN(both, 1);
    assert.deepEqual([refused.status, refused.flag], [503, 'UO']);
    assert.equal(stat('retries', 'upstream_rq_retry_overflow'), 1);
    await clock.nextArmed();
    clock.advance(250); // past the first retry's backoff (under 25 ms)
    assert.deepEqual((await Promise.all(both)).map((r) => r.status).sort(), [200, 503]);
  });

  row({ id: 'CP-05', field: 'DestinationRule.trafficPolicy.connectionPool.http.maxRequestsPerConnection', rule: 'Envoy max_requests_per_connection 1: every request gets its own upstream connection (no keep-alive)' }, async () => {
    const u = upstreams[names.indexOf('perconn')];
    const before = u.connections;
    for (let i = 0; i < 3; i++) assert.equal((await send('perconn')).status, 200);
    assert.equal(u.connections - before, 3);
  });

  row({ id: 'CP-06', field: 'DestinationRule.trafficPolicy.connectionPool.http.maxRequestsPerConnection', rule: 'Istio default (0 = unlimited): keep-alive reuses one upstream connection for sequential requests' }, async () => {
    const u = upstreams[names.indexOf('requests')];
    const before = u.connections;
    for (let i = 0; i < 3; i++) assert.equal((await send('requests')).status, 200);
    assert.equal(u.connections - before, 0);
  });
});
