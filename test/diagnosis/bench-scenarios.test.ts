import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalHostsOf, generateScenarios, measuredRates, MIN_RPS, modelRates, percentile, scenarioSpace, summarize, trafficOf, type ScenarioResult } from '../../bench/diagnosis-scenarios.js';
import { benchTopologyYaml, EXTERNAL_HOST } from '../../bench/generated-topology.js';
import { parseParams, type RawParams } from '../../src/platform/local/chaos/params.js';
import { resolveTarget, type MeshView } from '../../src/platform/local/chaos/targets.js';
import { FAULT_TYPES } from '../../src/platform/local/chaos/types.js';
import { loadTopology, parseTopology } from '../../src/platform/local/topology/parse.js';
import type { Topology } from '../../src/platform/local/topology/model.js';

// The live diagnosis benchmark's scenarios and summary (bench/diagnosis-scenarios.ts): the same
// seed gives the same faults, every target is one chaos resolves in the mesh the topology makes,
// every fault type the topology can host comes up, and the figures are the right arithmetic.
// (The benchmark itself runs a mesh for minutes: `meshmedic bench diagnosis`, not a test.)

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const load = (p: string): Topology => loadTopology(join(root, p)).topology;

/** The mesh chaos resolves targets against, as `meshmedic up` starts it from the topology. */
function meshOf(t: Topology): MeshView {
  const instances = t.services.flatMap((s) =>
    s.versions.flatMap((v) => Array.from({ length: v.replicas }, (_, i) => ({ id: `${s.name}-${v.name}-${i}.${s.namespace}`, name: `${s.name}-${v.name}-${i}`, namespace: s.namespace, workload: `${s.name}-${v.name}`, service: s.name, version: v.name }))),
  );
  return { instances, externalHosts: externalHostsOf(t).map((h) => h.host) };
}

describe('live diagnosis benchmark: scenarios', () => {
  const topologies = ['examples/bookinfo/topology.yaml', 'examples/boutique/topology.yaml', 'examples/generated-30/topology.yaml'];

  for (const file of topologies) {
    test(`${file}: seeded, valid targets, every hostable type covered`, () => {
      const t = load(file);
      const space = scenarioSpace(t, modelRates(t, 30));
      const types = Object.keys(space);
      const ns = t.services[0].namespace;
      const a = generateScenarios(space, () => ns, 40, 11);
      const b = generateScenarios(space, () => ns, 40, 11);
      const c = generateScenarios(space, () => ns, 40, 12);
      assert.deepEqual(a, b, 'the same seed gives the same sequence');
      assert.notDeepEqual(a.map((s) => `${s.fault} ${s.target}`), c.map((s) => `${s.fault} ${s.target}`), 'another seed another one');
      // Shuffled rounds over the hostable types: the first `types.length` scenarios hold each once.
      assert.deepEqual(new Set(a.slice(0, types.length).map((s) => s.fault)), new Set(types));
      const mesh = meshOf(t);
      for (const s of a) {
        assert.ok(space[s.fault]!.some((x) => x.target === s.target), `${s.target} is in the space of ${s.fault}`);
        // chaos accepts it: the target resolves in the running mesh and the flags parse.
        assert.doesNotThrow(() => resolveTarget(s.fault, s.target, s.namespace, mesh), `${s.fault} -t ${s.target}`);
        assert.doesNotThrow(() => parseParams(s.fault, s.params as RawParams), `${s.fault} ${s.args.join(' ')}`);
      }
      for (const [f, targets] of Object.entries(space)) for (const x of targets!) assert.ok(x.rps >= MIN_RPS, `${f} ${x.target} gets ${x.rps} rps`);
    });
  }

  test('bookinfo: the space follows the topology (who calls whom, which traffic reaches where)', () => {
    const bookinfo = load('examples/bookinfo/topology.yaml');
    const space = scenarioSpace(bookinfo, modelRates(bookinfo, 30));
    assert.deepEqual(Object.keys(space).sort(), FAULT_TYPES.filter((f) => f !== 'external-outage').sort(), 'no external host in bookinfo');
    // productpage is called only by the load (no sidecar in front): its outbound config cannot break it.
    for (const f of ['bad-version', 'bad-config', 'pool-exhaustion'] as const) assert.deepEqual(space[f]!.map((x) => x.target).sort(), ['service/details', 'service/ratings', 'service/reviews']);
    // reviews v1 calls no one: no edge from it; v2 and v3 call ratings.
    const edges = space['network-delay']!.map((x) => x.target);
    assert.ok(edges.includes('workload/reviews-v2->ratings') && edges.includes('workload/reviews-v3->ratings') && !edges.some((e) => e.startsWith('workload/reviews-v1')), edges.join(', '));
    // ratings gets the requests of reviews v2 and v3: two thirds of 30 rps.
    assert.equal(Math.round(trafficOf(load('examples/bookinfo/topology.yaml'), 30).serviceRps.get('ratings.bookinfo')!), 20);
  });

  test('boutique: TCP and rarely called services host nothing', () => {
    const boutique = load('examples/boutique/topology.yaml');
    const space = scenarioSpace(boutique, modelRates(boutique, 30));
    const all = Object.values(space).flatMap((ts) => ts!.map((x) => x.target));
    assert.ok(!all.some((x) => x.includes('redis-cart')), 'redis-cart is TCP');
    // checkoutservice is called on 5% of pages: 1.5 rps at 30 rps, under MIN_RPS; its calls to
    // cartservice and shippingservice (two each per order, 3 rps) are busy enough.
    assert.ok(!all.some((x) => /^(service|instance)\/checkoutservice/.test(x)), all.filter((x) => x.includes('checkout')).join(', '));
    assert.ok(all.includes('workload/checkoutservice-v1->cartservice'));
    // Mutual TLS is enforced on HTTP/1.1 ports only: no bad-mtls on boutique's gRPC services.
    const grpcOnly = new Set(boutique.services.filter((x) => x.ports.every((p) => p.protocol !== 'http')).map((x) => `service/${x.name}`));
    assert.ok(grpcOnly.size > 0);
    assert.deepEqual((space['bad-mtls'] ?? []).filter((x) => grpcOnly.has(x.target)), []);
    assert.ok((space['bad-authz'] ?? []).some((x) => grpcOnly.has(x.target)), 'bad-authz is refused on gRPC too');
  });

  test('the generated topology: as written by the script, with its external dependency and depth', () => {
    const text = benchTopologyYaml(30, 7);
    assert.equal(readFileSync(join(root, 'examples/generated-30/topology.yaml'), 'utf8'), text, 'examples/generated-30 is `node scripts/generate-topology.mjs 30 7`');
    const t = parseTopology(text, 'gen.yaml').topology!;
    assert.equal(t.services.length, 30);
    assert.deepEqual(externalHostsOf(t).map((h) => h.host), [EXTERNAL_HOST]);
    assert.ok(t.services.some((s) => s.versions.length > 1), 'some services have two versions');
    assert.ok(t.services.some((s) => s.versions.some((v) => v.replicas > 1)), 'some workloads have two replicas');
    const space = scenarioSpace(t, modelRates(t, 30));
    assert.deepEqual(Object.keys(space).sort(), [...FAULT_TYPES].sort(), 'it hosts every fault type');
  });
});

describe('live diagnosis benchmark: measured rates', () => {
  test('targets follow what the mesh measured: routing config that starves a version leaves it out', () => {
    const t = load('examples/bookinfo/topology.yaml');
    // As Bookinfo's VirtualService routes an anonymous load: reviews v1 90%, v3 10%, v2 nothing (jason only).
    const dest = (pod: string, workload: string, service: string, value: number) => ({ labels: { pod, namespace: 'bookinfo', destination_workload: workload, destination_service_name: service }, value });
    const src = (w: string, service: string, value: number) => ({ labels: { source_workload: w, source_workload_namespace: 'bookinfo', destination_service_name: service, destination_service_namespace: 'bookinfo', destination_service: `${service}.bookinfo.svc.cluster.local` }, value });
    const rates = measuredRates(
      [dest('productpage-v1-0', 'productpage-v1', 'productpage', 30), dest('details-v1-0', 'details-v1', 'details', 30), dest('reviews-v1-0', 'reviews-v1', 'reviews', 27), dest('reviews-v3-0', 'reviews-v3', 'reviews', 3), dest('ratings-v1-0', 'ratings-v1', 'ratings', 3)],
      [src('productpage-v1', 'details', 30), src('productpage-v1', 'reviews', 30), src('reviews-v3', 'ratings', 3)],
    );
    assert.equal(rates.service('reviews', 'bookinfo'), 30);
    assert.equal(rates.workload('reviews-v2', 'bookinfo'), 0);
    const space = scenarioSpace(t, rates);
    const all = Object.values(space).flatMap((ts) => ts!.map((x) => x.target));
    assert.ok(!all.some((x) => x.includes('reviews-v2')), all.join(', '));
    assert.ok(space['network-delay']!.some((x) => x.target === 'workload/reviews-v3->ratings' && x.rps === 3));
    assert.ok(space['instance-crash']!.some((x) => x.target === 'instance/reviews-v3-0'));
  });
});

describe('live diagnosis benchmark: summary', () => {
  const r = (fault: ScenarioResult['fault'], detectedMs: number | null, rank: number): ScenarioResult => ({ fault, target: 'x', detectedMs, top3: [], correct1: rank === 1, correct3: rank >= 1 && rank <= 3 });

  test('percentile: nearest rank', () => {
    assert.equal(percentile([], 0.5), null);
    assert.equal(percentile([7], 0.95), 7);
    assert.equal(percentile([4, 1, 3, 2], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 0.95), 19);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 1), 100);
  });

  test('AC@k counts undetected faults as misses; MTTD reads only detected ones; per fault type', () => {
    const s = summarize([r('latency', 1000, 1), r('latency', 3000, 2), r('error-rate', 500, 1), r('error-rate', null, 0), r('instance-crash', 2000, 4)]);
    assert.equal(s.scenarios, 5);
    assert.equal(s.detected, 4);
    assert.equal(s.ac1, 0.4);
    assert.equal(s.ac3, 0.6);
    assert.equal(s.mttdP50Ms, 1000);
    assert.equal(s.mttdP95Ms, 3000);
    assert.deepEqual(Object.keys(s.byFault), ['error-rate', 'instance-crash', 'latency']);
    assert.deepEqual(s.byFault['error-rate'], { scenarios: 2, detected: 1, ac1: 0.5, ac3: 0.5, mttdP50Ms: 500, mttdP95Ms: 500 });
    assert.deepEqual(s.byFault.latency, { scenarios: 2, detected: 2, ac1: 0.5, ac3: 1, mttdP50Ms: 1000, mttdP95Ms: 3000 });
    assert.equal(summarize([]).ac1, null);
    // A fault chaos could not put in force is counted apart, not scored.
    const t = summarize([r('latency', 1000, 1), { ...r('latency', null, 0), notInjected: 'timeout' }]);
    assert.equal(t.scenarios, 1);
    assert.equal(t.notInjected, 1);
    assert.equal(t.ac1, 1);
  });
});
