import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localize } from '../../src/diagnosis/localization/localize.js';
import { describeTarget, type RankedCause } from '../../src/diagnosis/model.js';
import type { ConfigChangeSignal, Entity, Features, SignalSnapshot } from '../../src/diagnosis/signals/snapshot.js';
import { bookinfo, BASELINE, CURRENT, DETAILS, fqdn, PP, pod, R1, R2, R3, RATINGS, readyInstances, snapshotOf, type Call } from './snapshot-fixture.js';

// Localization on SignalSnapshots built by hand: for each cause kind, a scenario where it must
// win, and the look-alikes it must lose to. Figures are round on purpose: the scores are checked
// by order and by margin, not by value.

const top = (causes: RankedCause[]) => causes[0] && describeTarget(causes[0].target);
const show = (causes: RankedCause[]) => causes.slice(0, 5).map((c) => `${c.score.toFixed(3)} ${describeTarget(c.target)} [${c.mechanism}]`).join('\n');
const scoreOf = (causes: RankedCause[], pred: (c: RankedCause) => boolean) => causes.find(pred)?.score ?? 0;

function run(current: Call[], baseline: Call[] = bookinfo(), extra: Parameters<typeof snapshotOf>[0]['extra'] = {}, instances = readyInstances([...current, ...baseline])): RankedCause[] {
  return localize(snapshotOf({ current, baseline, instances, extra }));
}

describe('localization: the deepest failing component', () => {
  test('a healthy mesh has no cause', () => {
    assert.deepEqual(run(bookinfo()), []);
  });

  test('errors propagating from ratings through reviews to productpage blame ratings', () => {
    const causes = run(bookinfo({ ratings: { errors: 1 } }));
    assert.equal(top(causes), 'service ratings.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'errors');
    const rating = causes[0].score;
    for (const c of causes.slice(1)) assert.ok(c.score < rating / 2, `${describeTarget(c.target)} scores ${c.score} next to ratings' ${rating}\n${show(causes)}`);
    assert.ok(!causes.some((c) => c.target.service === 'productpage'), `productpage blamed:\n${show(causes)}`);
    assert.match(causes[0].evidence.map((e) => e.text).join('\n'), /answered 100% of \d+ requests with errors/);
  });

  test('latency propagating from ratings blames ratings, not reviews or productpage', () => {
    const causes = run(bookinfo({ ratings: { ms: 250 } }));
    assert.equal(top(causes), 'service ratings.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'latency');
    assert.ok(!causes.some((c) => c.target.service === 'productpage' || c.target.service === 'reviews'), show(causes));
  });
});

describe('localization: instance, version or service', () => {
  test('errors in one version of several blame the version', () => {
    const causes = run(bookinfo({ reviews2: { errors: 1, code: '503' } }));
    assert.equal(top(causes), 'version v2 of reviews.bookinfo (workload reviews-v2)', show(causes));
    assert.ok(causes[0].score > 2 * scoreOf(causes, (c) => c.target.kind === 'service'), show(causes));
  });

  test('errors in every version blame the service', () => {
    const causes = run(bookinfo({ reviewsAll: { errors: 0.5 } }));
    assert.equal(top(causes), 'service reviews.bookinfo', show(causes));
    assert.ok(causes[0].score > 1.5 * scoreOf(causes, (c) => c.target.kind === 'version'), show(causes));
  });

  test('errors in one of two instances of a version blame the instance', () => {
    const a = pod('reviews', 'v1', 0);
    const b = pod('reviews', 'v1', 1);
    const mesh = (bad: boolean): Call[] => [
      { from: null, service: 'productpage', to: PP, rps: 10, ms: 10, errors: bad ? 0.5 : 0 },
      { from: PP, service: 'reviews', to: a, rps: 5, ms: 3 },
      { from: PP, service: 'reviews', to: b, rps: 5, ms: 3, errors: bad ? 1 : 0 },
    ];
    const causes = run(mesh(true), mesh(false));
    assert.equal(top(causes), 'instance reviews-v1-1.bookinfo', show(causes));
    assert.ok(causes[0].score > 2 * scoreOf(causes, (c) => c.target.kind === 'version' || c.target.kind === 'service'), show(causes));
  });

  test('a lone instance with app errors is its service', () => {
    const causes = run(bookinfo({ details: { errors: 1 } }));
    assert.equal(top(causes), 'service details.bookinfo', show(causes));
  });

  test('a crashed instance (not ready, refused connections, its share of traffic gone) is the instance', () => {
    const current = bookinfo({ reviews2: { flags: 'UF', code: '503', flagAt: 'destination', rps: 0.5 } });
    const instances = readyInstances(current).map((i) => (i.name === R2.pod ? { ...i, ready: false, since: CURRENT.startMs + 1000 } : i));
    const causes = run(current, bookinfo(), {}, instances);
    assert.equal(top(causes), 'instance reviews-v2-0.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'crash');
    const texts = causes[0].evidence.map((e) => e.text).join('\n');
    assert.match(texts, /not ready/);
    assert.match(texts, /UF x\d+/);
  });

  test('a hung instance (requests cut by callers, response code 0) is the instance, mechanism hang', () => {
    const current = bookinfo({ reviews2: { flags: 'DC', code: '0', flagAt: 'destination', rps: 0.3, ms: 3000 } });
    const instances = readyInstances(current).map((i) => (i.name === R2.pod ? { ...i, ready: false, since: CURRENT.startMs + 1500 } : i));
    const causes = run(current, bookinfo(), {}, instances);
    assert.equal(top(causes), 'instance reviews-v2-0.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'hang');
  });

  test('an instance that is not ready since before the baseline is old news', () => {
    const instances = readyInstances(bookinfo()).map((i) => (i.name === R2.pod ? { ...i, ready: false, since: BASELINE.startMs - 60_000 } : i));
    assert.deepEqual(run(bookinfo(), bookinfo(), {}, instances), []);
  });
});

describe('localization: edges, external dependencies, overload', () => {
  test('latency the caller sees but the destination does not blames the edge', () => {
    const current = bookinfo({ reviewsAll: { networkMs: 200 } });
    const causes = run(current);
    assert.equal(top(causes), 'edge productpage-v1 -> reviews.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'network');
    assert.ok(!causes.some((c) => c.target.kind === 'service' || c.target.kind === 'version'), show(causes));
  });

  test('the same latency seen by both sidecars blames the destination, not the edge', () => {
    const causes = run(bookinfo({ reviewsAll: { ms: 203 } }));
    assert.equal(top(causes), 'service reviews.bookinfo', show(causes));
    assert.ok(!causes.some((c) => c.target.kind === 'edge'), show(causes));
  });

  test('an instance whose every call is slow on the way is the instance (network)', () => {
    const current = bookinfo({ reviewsAll: { networkMs: 150 }, details: { networkMs: 150 } });
    const causes = run(current);
    assert.equal(top(causes), 'instance productpage-v1-0.bookinfo', show(causes));
    assert.equal(causes[0].mechanism, 'network');
  });

  test('every instance of a workload slow on the way to one destination alike: the workload\'s edge, ahead of each instance', () => {
    // mid (two instances) calls back; its front calls mid. The delay is on mid -> back only.
    const F = pod('front'), M0 = pod('mid', 'v1', 0), M1 = pod('mid', 'v1', 1), B = pod('back');
    const mesh = (networkMs: number): Call[] => [
      { from: null, service: 'front', to: F, rps: 10, ms: 12 + networkMs },
      { from: F, service: 'mid', to: M0, rps: 5, ms: 8 + networkMs },
      { from: F, service: 'mid', to: M1, rps: 5, ms: 8 + networkMs },
      { from: M0, service: 'back', to: B, rps: 5, ms: 4, networkMs },
      { from: M1, service: 'back', to: B, rps: 5, ms: 4, networkMs },
    ];
    const causes = run(mesh(150), mesh(0));
    assert.equal(top(causes), 'edge mid-v1 -> back.bookinfo', show(causes));
    for (const c of causes.filter((x) => x.target.kind === 'instance')) assert.ok(c.score <= causes[0].score * 0.6, show(causes));
  });

  test('an external host failing for its callers is the external dependency', () => {
    const ext = 'api.payments.example';
    const mesh = (down: boolean): Call[] => [
      { from: null, service: 'productpage', to: PP, rps: 10, ms: 20, errors: down ? 1 : 0 },
      { from: PP, service: 'details', to: DETAILS, rps: 10, ms: 15, errors: down ? 1 : 0 },
      down
        ? { from: DETAILS, service: ext, external: true, to: null, rps: 10, ms: 1, flags: 'UF', code: '503' }
        : { from: DETAILS, service: ext, external: true, to: null, rps: 10, ms: 10, flagAt: 'source' },
    ];
    const causes = run(mesh(true), mesh(false), {}, readyInstances(mesh(false)));
    assert.equal(top(causes), `external host ${ext}`, show(causes));
    assert.ok(!causes.some((c) => c.target.service === 'details' || c.target.service === 'productpage'), show(causes));
  });

  test('callers\' circuit breakers overflowing (UO) is overload of the callee, ahead of the pool change', () => {
    const current = bookinfo().map((c) => (c.service === 'ratings' ? { ...c, rps: 3, flags: 'UO', code: '503' } : c));
    const change: ConfigChangeSignal = {
      version: 12, at: CURRENT.startMs - 1000, type: 'updated', resource: { kind: 'DestinationRule', namespace: 'bookinfo', name: 'ratings' },
      hosts: [fqdn('ratings', 'bookinfo')], details: ['trafficPolicy.connectionPool: none -> {"tcp":{"maxConnections":1}}'], aspects: ['connectionPool'],
    };
    const causes = run(current, bookinfo(), { configChanges: [change] });
    assert.equal(top(causes), 'overload of service ratings.bookinfo', show(causes));
    assert.equal(causes[1] && describeTarget(causes[1].target), 'config change DestinationRule bookinfo/ratings (version 12)', show(causes));
  });

  test('an older change to a resource changed again since is not a cause of its own (the mesh\'s first apply is not reverted)', () => {
    const current = bookinfo().map((c) => (c.service === 'ratings' ? { ...c, rps: 3, flags: 'UO', code: '503' } : c));
    const first: ConfigChangeSignal = {
      version: 2, at: CURRENT.startMs - 20_000, type: 'added', resource: { kind: 'DestinationRule', namespace: 'bookinfo', name: 'ratings' },
      hosts: [fqdn('ratings', 'bookinfo')], details: [], aspects: ['subsets'],
    };
    const pool: ConfigChangeSignal = { ...first, version: 12, at: CURRENT.startMs - 1000, type: 'updated', details: ['trafficPolicy.connectionPool: none -> {"tcp":{"maxConnections":1}}'], aspects: ['connectionPool'] };
    const versions = (changes: ConfigChangeSignal[]) => run(current, bookinfo(), { configChanges: changes }).filter((c) => c.target.kind === 'config-change').map((c) => c.target.resource?.configVersion);
    assert.deepEqual(versions([first]), [2], 'alone, the first apply is a (weak) candidate');
    assert.deepEqual(versions([first, pool]), [12]);
  });
});

describe('localization: config changes and policies', () => {
  const vsChange = (at: number, aspects = ['routing']): ConfigChangeSignal => ({
    version: 7, at, type: 'updated', resource: { kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' },
    hosts: [fqdn('reviews', 'bookinfo')], details: ['http[0] route: reviews/v1 -> reviews/missing'], aspects,
  });

  test('requests finding no cluster right after a route change blame the change', () => {
    const current = bookinfo().map((c) => (c.service === 'reviews' ? { ...c, service: 'reviews:9080', external: true, to: null, flags: 'NC', code: '503' } : c));
    const causes = run(current, bookinfo(), { configChanges: [vsChange(CURRENT.startMs - 500)] });
    assert.equal(top(causes), 'config change VirtualService bookinfo/reviews (version 7)', show(causes));
    assert.equal(causes[0].mechanism, 'routing');
    assert.ok(causes[0].evidence.some((e) => /NC x\d+/.test(e.text)), show(causes));
  });

  test('a change the baseline saw in force while its hosts were healthy has proven itself: a fifth of the score', () => {
    const current = bookinfo().map((c) => (c.service === 'reviews' ? { ...c, service: 'reviews:9080', external: true, to: null, flags: 'NC', code: '503' } : c));
    const score = (at: number) => run(current, bookinfo(), { configChanges: [vsChange(at)] }).find((c) => c.target.kind === 'config-change')!;
    const fresh = score(BASELINE.endMs - 3000); // 3 s in force before the baseline ended: not proven
    const proven = score(BASELINE.endMs - 12_000); // 12 s in force in a healthy baseline
    const timeOnly = Math.pow(0.5, 9000 / 30_000);
    assert.ok(Math.abs(proven.score / fresh.score - 0.2 * timeOnly) < 0.01, `${proven.score} vs ${fresh.score}`);
    assert.match(proven.evidence[0].text, /its hosts served their callers healthy for 12 s of the baseline after it/);
    // Callers already failing in the baseline: nothing proven.
    const sick = run(current, bookinfo({ reviewsAll: { errors: 0.2 } }), { configChanges: [vsChange(BASELINE.endMs - 12_000)] }).find((c) => c.target.kind === 'config-change')!;
    assert.equal(sick.evidence[0].figures.provenSeconds, 0);
  });

  test('a change long before the anomaly loses to what the metrics point at', () => {
    const causes = run(bookinfo({ ratings: { errors: 1 } }), bookinfo(), { configChanges: [vsChange(BASELINE.startMs + 1000)] });
    assert.equal(top(causes), 'service ratings.bookinfo', show(causes));
  });

  test('a new version that fails after a rollout is the version; the rollout comes second', () => {
    const R4 = pod('reviews', 'v4');
    const current = [...bookinfo(), { from: PP, service: 'reviews', to: R4, rps: 3, ms: 3, errors: 1 } as Call];
    const change = { ...vsChange(CURRENT.startMs - 1000), details: ['http[0] route: reviews/v1 -> reviews/v1 50, reviews/v4 50'] };
    const causes = run(current, bookinfo(), { configChanges: [change] });
    assert.equal(top(causes), 'version v4 of reviews.bookinfo (workload reviews-v4)', show(causes));
    assert.ok(causes[0].evidence.some((e) => /just rolled out/.test(e.text)), show(causes));
    assert.equal(causes[1] && causes[1].target.kind, 'config-change', show(causes));
  });

  test('no healthy upstream because callers ejected a failing new version blames the version, not the route', () => {
    const R4 = pod('reviews', 'v4');
    // v4 answered a few 500s, got ejected; its subset then has no healthy endpoint (UH at the caller).
    const current = [...bookinfo(), { from: PP, service: 'reviews', to: R4, rps: 0.5, ms: 3, errors: 1 } as Call, { from: PP, service: 'reviews', to: null, namespace: 'bookinfo', rps: 2, ms: 0.5, flags: 'UH', code: '503' } as Call];
    const change = { ...vsChange(CURRENT.startMs - 1000), details: ['http[0] route: reviews/v2 -> reviews/v2 50, reviews/v4 50'] };
    const ejections = [{ at: CURRENT.startMs + 500, kind: 'eject' as const, instance: R4.pod, namespace: 'bookinfo', reportedBy: 'productpage-v1-0.bookinfo', cluster: 'outbound|9080|v4|reviews.bookinfo.svc.cluster.local', host: fqdn('reviews', 'bookinfo'), reason: 'consecutive_5xx' }];
    const causes = run(current, bookinfo(), { configChanges: [change], outlierEvents: ejections });
    assert.equal(top(causes), 'version v4 of reviews.bookinfo (workload reviews-v4)', show(causes));
    assert.ok(causes[0].evidence.some((e) => e.signal === 'outlier'), show(causes));
    const route = causes.find((c) => c.target.kind === 'config-change');
    assert.ok(!route || route.mechanism !== 'routing', `the route is not blamed for the ejection's UH:\n${show(causes)}`);
  });

  test('traces that end in a component corroborate it', () => {
    const current = bookinfo({ ratings: { errors: 0.3 } });
    const plain = run(current);
    const traces = { errorTraces: 10, sampledTraces: 40, culprits: [{ service: 'ratings', namespace: 'bookinfo', workload: 'ratings-v1', instance: 'ratings-v1-0', errorTraces: 8, slowTraces: 0, baselineSlowTraces: 0 }] };
    const withTraces = run(current, bookinfo(), { traces });
    assert.equal(top(withTraces), 'service ratings.bookinfo');
    assert.ok(withTraces[0].score > plain[0].score, `${withTraces[0].score} > ${plain[0].score}`);
    assert.ok(withTraces[0].evidence.some((e) => e.signal === 'trace' && /8 of 10 sampled failing traces/.test(e.text)), show(withTraces));
  });

  test('403s after an AuthorizationPolicy change blame the policy', () => {
    const current = bookinfo().map((c) => (c.service === 'details' ? { ...c, errors: 1, code: '403' } : c));
    const change: ConfigChangeSignal = {
      version: 9, at: CURRENT.startMs - 200, type: 'added', resource: { kind: 'AuthorizationPolicy', namespace: 'bookinfo', name: 'deny-details' },
      hosts: [], workloads: ['bookinfo/app=details'], details: ['AuthorizationPolicy added'], aspects: ['authorization'],
    };
    const causes = run(current, bookinfo(), { configChanges: [change] });
    assert.equal(top(causes), 'security policy AuthorizationPolicy bookinfo/deny-details (version 9)', show(causes));
  });
});

describe('localization: recorded data (quantiles only, no rates per call, CPU)', () => {
  // What a recording of aggregates gives: per service an inbound rate and p95, its outbound p95
  // (its own calls), its CPU; no codes, no means, no per-call rates.
  const features = (rps: number, p95: number): Features => ({ rps, requests: rps * 60, errorRps: 0, errorRatio: null, appErrorRps: 0, codes: {}, flags: {}, latency: { p50: null, p95, p99: null }, meanMs: null });
  const svc = (name: string, cur: [number, number], base: [number, number], out?: { cur: number; base: number }, cpu?: { current: number; baseline: number }) => {
    const host = fqdn(name, 'shop');
    const observed = { current: { source: null, destination: features(...cur) }, baseline: { source: null, destination: features(...base) } };
    return [
      { id: `service|${host}`, kind: 'service' as const, namespace: 'shop', service: name, host, ...observed, ...(cpu && { cpuPercent: cpu }) },
      {
        id: `workload|${host}`, kind: 'workload' as const, namespace: 'shop', service: name, host, workload: name, ...observed, ...(cpu && { cpuPercent: cpu }),
        ...(out && { outbound: { current: features(0, out.cur), baseline: features(0, out.base) } }),
      },
    ];
  };
  const snap = (entities: Entity[]): SignalSnapshot => ({
    at: CURRENT.endMs, current: CURRENT, baseline: BASELINE, namespace: null, entities, edges: [], instanceEdges: [], configChanges: [], instances: [], outlierEvents: [], findings: [], traces: null, queries: [], notes: [],
  });

  test('latency a caller only passes on (its outbound p95 rose as much) blames the callee', () => {
    const causes = localize(snap([...svc('front', [10, 400], [10, 100], { cur: 380, base: 80 }), ...svc('cart', [10, 300], [10, 20])]));
    assert.equal(top(causes), 'service cart.shop', show(causes));
    assert.ok(!causes.some((c) => c.target.service === 'front'), show(causes));
  });

  test('a service whose CPU use jumped is to blame, mechanism saturation', () => {
    const causes = localize(snap([...svc('front', [10, 100], [10, 100], { cur: 80, base: 80 }, { current: 12, baseline: 10 }), ...svc('cart', [10, 20], [10, 20], undefined, { current: 85, baseline: 15 })]));
    assert.equal(top(causes), 'service cart.shop', show(causes));
    assert.equal(causes[0].mechanism, 'saturation');
    assert.ok(causes[0].evidence.some((e) => /CPU use rose by 70\.0 points/.test(e.text)), show(causes));
  });
});

describe('localization: ranking', () => {
  test('a caller of a dead TCP dependency is not blamed ahead of the dependency', () => {
    const CART = pod('cart', 'v1', 0, 'shop');
    const FRONT = pod('frontend', 'v1', 0, 'shop');
    const REDIS = pod('redis', 'v1', 0, 'shop');
    const mesh = (down: boolean): Call[] => [
      { from: null, service: 'frontend', to: FRONT, rps: 10, ms: 10, errors: down ? 1 : 0 },
      { from: FRONT, service: 'cart', to: CART, rps: 10, ms: 5, errors: down ? 1 : 0 },
    ];
    const instances = [...readyInstances(mesh(false)), { namespace: 'shop', name: REDIS.pod, workload: REDIS.workload, service: 'redis', version: 'v1', ready: false, since: CURRENT.startMs, scrapeUp: true }];
    const snap = snapshotOf({ current: mesh(true), baseline: mesh(false), instances });
    // cart -> redis is TCP: the call graph knows it, the request metrics cannot explain cart's errors by it.
    snap.edges.push({ id: 'tcp', sourceWorkload: CART.workload, sourceNamespace: 'shop', host: fqdn('redis', 'shop'), service: 'redis', namespace: 'shop', external: false, protocol: 'tcp', current: { source: null, destination: null }, baseline: { source: null, destination: null } });
    const causes = localize(snap);
    assert.equal(top(causes), 'instance redis-v1-0.shop', show(causes));
  });

  test('scores are within 0..1 and sorted', () => {
    const causes = run(bookinfo({ ratings: { errors: 0.5, ms: 80 }, reviews2: { networkMs: 100 } }));
    assert.ok(causes.length > 1);
    for (let i = 0; i < causes.length; i++) {
      assert.ok(causes[i].score > 0 && causes[i].score <= 1);
      if (i > 0) assert.ok(causes[i - 1].score >= causes[i].score);
    }
  });

  void R1; void R3; void RATINGS;
});
