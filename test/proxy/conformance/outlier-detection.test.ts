import assert from 'node:assert/strict';
import type { ProxySnapshot } from '../../../src/api/snapshot.js';
import { assertLocalReply, clusterOf, PORT, useSidecar } from './fixture.js';
import { row, setup, table } from './table.js';

// DestinationRule `outlierDetection` as Envoy runs it under Istio (consecutive 5xx and gateway
// failure detectors, non-split mode). One service per row, its own upstreams, routes without
// retries (each try counts, so a retry would muddle the counts). The policies are added to the
// fixture's clusters by a second snapshot, as the control plane would push them. Requests go
// out with `request`/`outcome`: no timer is fired behind the row's back, so ejections end only
// at the interval sweeps the row fires by moving the clock (every detector starts at t=0).

const NET = '127.10.171';
const noRetries = (host: string, extra: object = {}) => [{ route: [{ destination: { host } }], retries: { attempts: 0 }, ...extra }];
const fast = { interval: '10s', baseEjectionTime: '30s' };
const POLICIES: Record<string, object> = {
  exact: { ...fast, maxEjectionPercent: 50 },
  resets: { ...fast, consecutive5xxErrors: 3 },
  off5xx: { ...fast, consecutive5xxErrors: 0 },
  gw: { ...fast, consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 },
  legacy: { ...fast, consecutiveErrors: 2 },
  dead: fast,
  reset: { ...fast, consecutive5xxErrors: 2 },
  timeout: { ...fast, consecutive5xxErrors: 2 },
  back: { ...fast, consecutive5xxErrors: 1, maxEjectionPercent: 50 },
  cap: { interval: '10s', baseEjectionTime: '200s', consecutive5xxErrors: 1, maxEjectionPercent: 50 },
  custom: { interval: '5s', baseEjectionTime: '5s', consecutive5xxErrors: 1, maxEjectionPercent: 50 },
  maxpct: { ...fast, consecutive5xxErrors: 1, maxEjectionPercent: 50 },
  one: { ...fast, consecutive5xxErrors: 1 },
  panic: { ...fast, consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 60 },
  all: { ...fast, consecutive5xxErrors: 1, maxEjectionPercent: 100 },
};
const UPSTREAMS: Record<string, string[]> = {
  exact: ['e1', 'e2'], resets: ['r1'], off5xx: ['o1'], gw: ['g1'], legacy: ['l1'], dead: ['dead'], reset: ['x1'], timeout: ['t1'],
  back: ['b1', 'b2'], cap: ['c1', 'c2'], custom: ['i1', 'i2'], maxpct: ['m1', 'm2', 'm3', 'm4'], one: ['n1', 'n2', 'n3'], panic: ['p1', 'p2', 'p3', 'p4'], all: ['a1', 'a2'],
};
const FAIL = { 'x-upstream-status': '503' };

table('DestinationRule outlierDetection', () => {
  const fx = useSidecar({
    net: NET,
    upstreams: Object.values(UPSTREAMS).flat().filter((u) => u !== 'dead'),
    services: Object.fromEntries(Object.entries(UPSTREAMS).map(([svc, eps]) => [svc, { endpoints: eps, http: noRetries(svc, svc === 'timeout' ? { timeout: '1s' } : {}) }])),
  });
  setup(async () => {
    const snap = structuredClone(fx.sidecar.snapshot!) as ProxySnapshot;
    for (const c of snap.clusters) c.outlierDetection = POLICIES[c.name.split('||')[1].split('.')[0]];
    snap.clusters.push({ name: `inbound|${PORT}||`, direction: 'inbound', port: PORT, protocol: 'http1', lbPolicy: 'ROUND_ROBIN', outlierDetection: fast });
    snap.endpoints.push({ clusterName: `inbound|${PORT}||`, endpoints: [{ address: `${NET}.98`, port: PORT, instance: 'app', labels: {}, healthy: true }] });
    snap.version = '2';
    assert.deepEqual(fx.sidecar.applySnapshot(snap), { ok: true });
  });
  const { clock } = fx;
  const get = (svc: string, headers: Record<string, string> = {}) => fx.outcome(fx.request(svc, '/', { headers }));
  const key = (u: string) => (u === 'dead' ? `${NET}.99:${PORT}` : `${fx.upstreams[u].address}:${PORT}`);
  const state = (svc: string, u: string) => fx.sidecar.outliers.get(clusterOf(svc))!.states().get(key(u))!;
  const stat = (svc: string, name: string) => fx.sidecar.stats.get(`cluster.${clusterOf(svc)}.outlier_detection.${name}`);
  const hits = (u: string) => fx.upstreams[u].requests;
  const sweep = (intervalMs = 10_000) => clock.advance(intervalMs - (clock.now() % intervalMs));
  /** Sends until `u` (scripted to fail) is ejected, then sweeps until it is back: how long it stayed out. */
  const ejectionOf = async (svc: string, u: string, intervalMs = 10_000) => {
    while (!state(svc, u).ejected) await get(svc);
    const at = clock.now();
    let sweeps = 0;
    while (state(svc, u).ejected) sweeps++, sweep(intervalMs);
    return { lastedMs: clock.now() - at, sweeps };
  };

  row({ id: 'OD-01', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'Envoy consecutive_5xx: the host is ejected on exactly the 5th consecutive 5xx (default 5), not the 4th, and gets no more traffic' }, async () => {
    fx.upstreams.e1.script({ failPercent: 100, status: 500 });
    while (hits('e1') < 4) await get('exact');
    assert.equal(state('exact', 'e1').ejected, false);
    while (hits('e1') < 5) await get('exact');
    assert.equal(state('exact', 'e1').ejected, true);
    for (let i = 0; i < 4; i++) assert.equal((await get('exact')).res.headers['x-upstream-name'], 'e2');
    assert.equal(hits('e1'), 5);
  });

  row({ id: 'OD-02', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'Envoy: any non-5xx response resets the consecutive 5xx count' }, async () => {
    for (const s of ['500', '503', '404', '500', '500']) await get('resets', { 'x-upstream-status': s });
    assert.deepEqual([state('resets', 'r1').ejected, state('resets', 'r1').consecutive5xx], [false, 2]);
    await get('resets', FAIL);
    assert.equal(state('resets', 'r1').ejected, true);
  });

  row({ id: 'OD-03', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'istiod: consecutive5xxErrors 0 sets enforcing_consecutive_5xx 0: no 5xx ever ejects; gateway detection stays off when consecutiveGatewayErrors is unset' }, async () => {
    for (const s of ['500', '500', '500', '500', '500', '500', '503', '503', '503', '503', '503', '503']) await get('off5xx', { 'x-upstream-status': s });
    assert.equal(state('off5xx', 'o1').ejected, false);
    assert.equal(stat('off5xx', 'ejections_enforced_total'), 0);
  });

  row({ id: 'OD-04', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutiveGatewayErrors', rule: 'Envoy consecutive_gateway_failure: 502, 503 and 504 count, a 500 resets the count; the ejection reason is consecutive_gateway_failure' }, async () => {
    for (const s of ['502', '504', '500', '503', '504']) await get('gw', { 'x-upstream-status': s });
    assert.equal(state('gw', 'g1').ejected, false);
    await get('gw', { 'x-upstream-status': '502' });
    assert.deepEqual([state('gw', 'g1').ejected, state('gw', 'g1').reason], [true, 'consecutive_gateway_failure']);
    assert.equal(stat('gw', 'ejections_enforced_consecutive_gateway_failure'), 1);
  });

  row({ id: 'OD-05', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutiveErrors', rule: 'istiod (deprecated field): consecutiveErrors counts gateway errors only (istio/api#617): 500s never eject, two 503s do' }, async () => {
    for (let i = 0; i < 4; i++) await get('legacy', { 'x-upstream-status': '500' });
    assert.equal(state('legacy', 'l1').ejected, false);
    for (let i = 0; i < 2; i++) await get('legacy', FAIL);
    assert.equal(state('legacy', 'l1').reason, 'consecutive_gateway_failure');
  });

  row({ id: 'OD-06', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'Envoy non-split mode: a connect failure counts as a 503: five UF replies eject the only host, the next request is 503 UH' }, async () => {
    for (let i = 0; i < 5; i++) assert.equal((await get('dead')).res.flag, 'UF');
    assertLocalReply(await get('dead'), { status: 503, flag: 'UH', details: 'no_healthy_upstream', body: 'no healthy upstream' });
  });

  row({ id: 'OD-07', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'Envoy non-split mode: a reset before the response headers counts as a 503' }, async () => {
    for (let i = 0; i < 2; i++) assert.equal((await get('reset', { 'x-upstream-reset': 'before-headers' })).res.status, 503);
    assert.equal(state('reset', 'x1').ejected, true);
  });

  row({ id: 'OD-08', field: 'DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors', rule: 'Envoy: a route timeout (504 UT) counts as a 5xx of the host that did not answer' }, async () => {
    for (let i = 0; i < 2; i++) {
      fx.armed.skipAll();
      const call = fx.request('timeout', '/', { headers: { 'x-upstream-delay-ms': '60000' } });
      assert.deepEqual([await fx.armed.next(), await fx.armed.next()].sort((a, b) => a - b), [1000, 60_000], 'the route timer and the upstream delay');
      clock.advance(1000);
      assert.equal((await fx.outcome(call)).res.flag, 'UT');
    }
    assert.equal(state('timeout', 't1').ejected, true);
  });

  row({ id: 'OD-09', field: 'DestinationRule.trafficPolicy.outlierDetection.baseEjectionTime', rule: 'Envoy: the host returns at the first interval sweep baseEjectionTime (30s) after its ejection, and takes traffic again' }, async () => {
    sweep();
    clock.advance(3000); // off the sweep grid
    fx.upstreams.b1.script({ failNext: 1, status: 503 });
    const { lastedMs, sweeps } = await ejectionOf('back', 'b1');
    assert.deepEqual([lastedMs, sweeps], [37_000, 4], 'sweeps at 7, 17, 27 s still ejected; back at 37 s');
    const before = hits('b1');
    for (let i = 0; i < 2; i++) await get('back');
    assert.equal(hits('b1'), before + 1, 'round robin reaches it again');
  });

  row({ id: 'OD-10', field: 'DestinationRule.trafficPolicy.outlierDetection.baseEjectionTime', rule: 'Envoy: each ejection multiplies baseEjectionTime by the times ejected (30s, 60s, 90s) while the host keeps failing' }, async () => {
    fx.upstreams.b1.script({ failPercent: 100, status: 503 });
    const lasted = [(await ejectionOf('back', 'b1')).lastedMs, (await ejectionOf('back', 'b1')).lastedMs];
    fx.upstreams.b1.script({});
    assert.deepEqual(lasted, [60_000, 90_000]);
  });

  row({ id: 'OD-11', field: 'DestinationRule.trafficPolicy.outlierDetection.baseEjectionTime', rule: 'Envoy: one ejection lasts at most max_ejection_time (300s, which Istio leaves at its default): base 200s, then 300s, not 400s' }, async () => {
    fx.upstreams.c1.script({ failPercent: 100, status: 503 });
    const lasted = [(await ejectionOf('cap', 'c1')).lastedMs, (await ejectionOf('cap', 'c1')).lastedMs];
    fx.upstreams.c1.script({});
    assert.deepEqual(lasted, [200_000, 300_000]);
  });

  row({ id: 'OD-12', field: 'DestinationRule.trafficPolicy.outlierDetection.interval', rule: 'Envoy: returns happen only at the interval sweeps: interval 5s and base 5s bring a host back 5s after an ejection made on a sweep' }, async () => {
    sweep(5000);
    fx.upstreams.i1.script({ failNext: 1, status: 503 });
    const { lastedMs, sweeps } = await ejectionOf('custom', 'i1', 5000);
    assert.deepEqual([lastedMs, sweeps], [5000, 1]);
  });

  row({ id: 'OD-13', field: 'DestinationRule.trafficPolicy.outlierDetection.maxEjectionPercent', rule: 'Envoy: maxEjectionPercent 50 of 4 hosts ejects 2; each further detection is refused and counted as ejections_overflow' }, async () => {
    for (let i = 0; i < 8; i++) await get('maxpct', FAIL);
    assert.deepEqual([stat('maxpct', 'ejections_active'), stat('maxpct', 'ejections_overflow')], [2, 6]);
  });

  row({ id: 'OD-14', field: 'DestinationRule.trafficPolicy.outlierDetection.maxEjectionPercent', rule: 'Envoy (as Istio documents it): one host may always be ejected: 10% (default) of 3 hosts ejects 1, never 2' }, async () => {
    for (let i = 0; i < 6; i++) await get('one', FAIL);
    assert.deepEqual([stat('one', 'ejections_active'), stat('one', 'ejections_overflow')], [1, 5]);
  });

  row({ id: 'OD-15', field: 'DestinationRule.trafficPolicy.outlierDetection.minHealthPercent', rule: 'Istio: below minHealthPercent (Envoy healthy_panic_threshold) nothing more is ejected and all hosts, ejected ones included, take traffic' }, async () => {
    for (let i = 0; i < 2; i++) await get('panic', FAIL);
    const before = ['p1', 'p2', 'p3', 'p4'].map(hits);
    for (let i = 0; i < 8; i++) await get('panic', FAIL);
    assert.equal(stat('panic', 'ejections_active'), 2, '2 of 4 ejected = 50% healthy < 60%');
    assert.deepEqual(['p1', 'p2', 'p3', 'p4'].map((u, i) => hits(u) - before[i]), [2, 2, 2, 2]);
  });

  row({ id: 'OD-16', field: 'DestinationRule.trafficPolicy.outlierDetection.minHealthPercent', rule: 'istiod: minHealthPercent 0 (default) disables panic: with every host ejected the cluster answers 503 UH' }, async () => {
    for (let i = 0; i < 2; i++) await get('all', FAIL);
    assert.equal(stat('all', 'ejections_active'), 2);
    assertLocalReply(await get('all'), { status: 503, flag: 'UH', details: 'no_healthy_upstream' });
  });

  row({ id: 'OD-17', field: 'DestinationRule.trafficPolicy.outlierDetection', rule: 'istiod: outlier detection is applied to outbound clusters only, never to inbound ones' }, async () => {
    assert.equal(fx.sidecar.outliers.get(`inbound|${PORT}||`), undefined);
    assert.ok(fx.sidecar.outliers.get(clusterOf('exact')));
  });

  row({ id: 'OD-18', field: 'DestinationRule.trafficPolicy.outlierDetection', rule: 'meshmedic (istio#40143): every ejection and return is an event with time, host, instance, reason, count and duration' }, async () => {
    const events = fx.sidecar.outliers.events.list().filter((e) => e.cluster === clusterOf('custom'));
    assert.deepEqual(events.map((e) => [e.kind, e.host, e.instance, e.reason, e.ejections, e.durationMs]), [
      ['eject', key('i1'), key('i1'), 'consecutive_5xx', 1, 5000],
      ['uneject', key('i1'), key('i1'), 'consecutive_5xx', 1, 5000],
    ]);
    assert.equal(events[1].time - events[0].time, 5000);
  });
});
