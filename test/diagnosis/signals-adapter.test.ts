import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../../src/diagnosis/signals/build-snapshot.js';
import { configChangeSignals } from '../../src/diagnosis/signals/config-signals.js';
import { ReadinessTracker } from '../../src/diagnosis/signals/registry-signals.js';
import type { Entity } from '../../src/diagnosis/signals/snapshot.js';
import { ConfigStore } from '../../src/config/store.js';
import { parseText } from '../../src/config/loader.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';
import type { WorkloadInstance } from '../../src/api/snapshot.js';
import { MeshSim, simPod } from './mesh-sim.js';

// The SignalSnapshot adapter against the embedded store filled with Istio's series of known
// rates, codes, flags and latencies: every figure is checked against what was written.

const START = 1_700_000_000_000;
const NOW = START + 120_000;
const PP = simPod('productpage');
const R1 = simPod('reviews', 'v1');
const R2 = simPod('reviews', 'v2');
const host = (s: string) => `${s}.bookinfo.svc.cluster.local`;

function fill(): MetricsStore {
  const store = new MetricsStore({ now: () => NOW });
  const sim = new MeshSim(store, START);
  // Baseline (first 60 s): reviews v1 and v2 fine.
  sim.set('in', { from: null, service: 'productpage', to: PP, rps: 10, ms: 20 });
  sim.set('r1', { from: PP, service: 'reviews', to: R1, rps: 5, ms: 8 });
  sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 5, ms: 8 });
  sim.advanceTo(START + 60_000);
  // Then v2 answers 2 rps with 503 and the rest slowly, and 1 rps finds no endpoint (UH).
  sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 3, ms: 90 });
  sim.set('r2-err', { from: PP, service: 'reviews', to: R2, rps: 2, ms: 90, code: '503' });
  sim.set('uh', { from: PP, service: 'reviews', namespace: 'bookinfo', to: null, rps: 1, ms: 0.7, code: '503', flags: 'UH' });
  sim.advanceTo(NOW);
  return store;
}

const entity = (es: Entity[], kind: Entity['kind'], pred: (e: Entity) => boolean = () => true) => {
  const e = es.find((x) => x.kind === kind && pred(x));
  assert.ok(e, `no ${kind}`);
  return e!;
};
const near = (a: number | null | undefined, b: number, tol = 0.02) => assert.ok(a != null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} is not ~${b}`);

describe('SignalSnapshot from the embedded store', () => {
  test('a caller\'s row that names a mesh service by the authority it wrote (no route chosen) is that service\'s, not an external host', async () => {
    const store = new MetricsStore({ now: () => NOW });
    const sim = new MeshSim(store, START);
    sim.set('r1', { from: PP, service: 'reviews', to: R1, rps: 5, ms: 8 });
    sim.advanceTo(START + 60_000);
    // productpage's calls cut while held on the way (its timeout is shorter than a network delay): DC, code 0, Host `reviews:9080`.
    sim.set('cut', { from: PP, service: 'reviews', authority: 'reviews:9080', to: null, rps: 2, ms: 100, code: '0', flags: 'DC' });
    // An external host stays external.
    sim.set('ext', { from: PP, service: 'api', authority: 'api.payments.example:80', to: null, rps: 1, ms: 30 });
    sim.advanceTo(NOW);
    const snap = await buildSnapshot({ metrics: new StoreMetricsSource(store, () => NOW) }, { at: NOW, current: { startMs: NOW - 30_000, endMs: NOW }, baseline: { startMs: START + 10_000, endMs: START + 55_000 } });
    assert.ok(!snap.entities.some((e) => e.host === 'reviews:9080'), snap.entities.map((e) => `${e.kind} ${e.host}`).join(', '));
    const reviews = entity(snap.entities, 'service', (e) => e.host === host('reviews'));
    near(reviews.current.source!.rps, 7);
    assert.ok(reviews.current.source!.flags.DC > 50, JSON.stringify(reviews.current.source!.flags));
    const edge = snap.edges.find((e) => e.sourceWorkload === 'productpage-v1' && e.host === host('reviews'));
    assert.ok(edge && edge.current.source!.flags.DC > 50 && edge.service === 'reviews' && edge.namespace === 'bookinfo', JSON.stringify(edge?.current.source?.flags));
    assert.ok(snap.entities.some((e) => e.kind === 'external' && e.host === 'api.payments.example:80'), 'a host outside the mesh stays external');
  });

  test('services, workloads, instances and edges carry both reporters\' figures for both windows', async () => {
    const source = new StoreMetricsSource(fill(), () => NOW);
    const snap = await buildSnapshot({ metrics: source }, { at: NOW, current: { startMs: NOW - 30_000, endMs: NOW }, baseline: { startMs: START + 10_000, endMs: START + 55_000 } });
    const reviews = entity(snap.entities, 'service', (e) => e.host === host('reviews'));
    // Callers' view: 5 rps to v1/v2 plus 1 rps UH.
    near(reviews.current.source!.rps, 11);
    near(reviews.current.source!.errorRatio!, 3 / 11);
    near(reviews.current.source!.appErrorRps, 2);
    assert.ok(reviews.current.source!.flags.UH > 25, JSON.stringify(reviews.current.source!.flags));
    // The destination never saw the UH requests.
    near(reviews.current.destination!.rps, 10);
    assert.deepEqual(reviews.current.destination!.flags, {});
    near(reviews.baseline.destination!.errorRatio!, 0);
    near(reviews.baseline.destination!.meanMs!, 8);
    const v2 = entity(snap.entities, 'workload', (e) => e.workload === 'reviews-v2');
    near(v2.current.destination!.errorRatio!, 0.4);
    near(v2.current.destination!.meanMs!, 90);
    assert.equal(v2.version, 'v2');
    // p50 from Istio's buckets: every request in (50, 100].
    const p50 = v2.current.destination!.latency!.p50!;
    assert.ok(p50 > 50 && p50 <= 100, `p50 ${p50}`);
    const inst = entity(snap.entities, 'instance', (e) => e.instance === 'reviews-v2-0');
    near(inst.current.destination!.rps, 5);
    assert.equal(inst.workload, 'reviews-v2');
    // productpage's outbound, from its own sidecar.
    const pp = entity(snap.entities, 'workload', (e) => e.workload === 'productpage-v1');
    near(pp.outbound!.current!.rps, 11);
    near(pp.outbound!.baseline!.rps, 10);
    // The edge from productpage to reviews, both reporters; the caller serves productpage.
    const edge = snap.edges.find((e) => e.sourceWorkload === 'productpage-v1' && e.host === host('reviews'))!;
    assert.equal(edge.sourceService, host('productpage'));
    near(edge.current.source!.rps, 11);
    near(edge.current.destination!.rps, 10);
    // Per calling instance.
    const ie = snap.instanceEdges.find((e) => e.sourceInstance === 'productpage-v1-0' && e.host === host('reviews'))!;
    near(ie.current.source!.rps, 11);
    assert.equal(ie.current.destination, null);
    // Callers outside the mesh.
    const outside = snap.edges.find((e) => e.sourceWorkload === 'unknown')!;
    assert.equal(outside.host, host('productpage'));
    assert.ok(snap.queries.some((q) => q.includes('rate(istio_requests_total[30s])')), snap.queries.join('\n'));
  });

  test('registry readiness, config changes and the namespace filter', async () => {
    const source = new StoreMetricsSource(fill(), () => NOW);
    let t = NOW - 40_000;
    const readiness = new ReadinessTracker(() => t);
    const inst = (name: string, healthy: boolean): WorkloadInstance => ({
      name, workload: name.replace(/-\d+$/, ''), namespace: 'bookinfo', serviceAccount: 'x', labels: { app: name.split('-')[0], version: name.split('-')[1] }, address: '127.0.0.1', ports: [], healthy, source: 'topology',
    });
    readiness.observe([inst('reviews-v2-0', true)]);
    t = NOW - 5000;
    readiness.observe([inst('reviews-v2-0', false)]);
    const store = new ConfigStore(() => NOW - 20_000);
    const vs = parseText('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n', 'vs.yaml', { defaultNamespace: 'bookinfo' }).resources;
    store.apply(vs);
    const snap = await buildSnapshot(
      { metrics: source, instances: () => [inst('reviews-v2-0', false)], readiness, changes: () => store.changesSince(0), resources: () => store.all() },
      { at: NOW, namespace: 'bookinfo', current: { startMs: NOW - 30_000, endMs: NOW }, baseline: { startMs: START, endMs: START + 55_000 } },
    );
    assert.deepEqual(snap.instances.map((i) => [i.name, i.ready, i.since]), [['reviews-v2-0', false, NOW - 5000]]);
    assert.equal(snap.configChanges.length, 1);
    assert.deepEqual(snap.configChanges[0].hosts, [host('reviews')]);
    assert.deepEqual(snap.configChanges[0].resource, { kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' });
    assert.ok(snap.entities.every((e) => e.namespace === 'bookinfo'));
  });

  test('config change descriptions name what moved', () => {
    const store = new ConfigStore(() => 1000);
    const doc = (route: string, fault = '') => parseText(`apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n${route}${fault}`, 'vs.yaml', { defaultNamespace: 'bookinfo' }).resources;
    store.apply(doc('    - destination: {host: reviews, subset: v1}\n'));
    store.apply(doc('    - destination: {host: reviews, subset: v1}\n      weight: 50\n    - destination: {host: reviews, subset: v4}\n      weight: 50\n', '    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}\n'));
    const [, change] = configChangeSignals(store.changesSince(0), 0, 2000);
    assert.deepEqual(change.aspects, ['fault', 'routing']);
    assert.ok(change.details.some((d) => d === 'http[0] route: reviews/v1 -> reviews/v1 50, reviews/v4 50'), change.details.join('\n'));
    assert.ok(change.details.some((d) => d.startsWith('http[0] fault: none -> {"abort"')), change.details.join('\n'));
  });
});
