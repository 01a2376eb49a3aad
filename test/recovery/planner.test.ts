import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { PlannedAction } from '../../src/recovery/model.js';
import { cause, mesh, NS, openIncident, put, REVIEWS_DR, REVIEWS_VS_50_50, type Mesh } from './fixture.js';

// The planner and the actions on a real config store and registry: which action each cause
// gets, the Istio config it would apply, and the safety limits that refuse some.

const NOW = 1_795_000_000_000;
const meshes: Mesh[] = [];
after(async () => {
  for (const m of meshes) await m.close();
});

async function fresh(config = ''): Promise<Mesh> {
  const m = await mesh({ clock: { now: () => NOW } }, config);
  meshes.push(m);
  return m;
}

const v3 = { kind: 'version' as const, namespace: NS, service: 'reviews', workload: 'reviews-v3', version: 'v3' };

describe('planner and actions', () => {
  test('a bad version gets shift-traffic: its weight goes to the healthy subset it shared the route with', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    openIncident(cp, [cause(v3, 'errors')], NOW);
    const plan = cp.recovery.plan({});
    assert.deepEqual(plan.actions.map((a) => a.kind), ['shift-traffic'], JSON.stringify(plan));
    const a = plan.actions[0];
    assert.equal(a.rejected, undefined);
    assert.equal(a.config.length, 1, 'the DestinationRule has its subsets already: only the VirtualService changes');
    const vs = a.config[0];
    assert.deepEqual([vs.kind, vs.namespace, vs.name, vs.op], ['VirtualService', NS, 'reviews', 'apply']);
    assert.deepEqual((vs.raw as any).spec.http[0].route, [{ destination: { host: 'reviews', subset: 'v1' } }]);
    assert.deepEqual((vs.previous as any).spec.http[0].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 50], ['v3', 50]], 'previous is the VirtualService in force');
    assert.equal(a.blastRadius.trafficShare, 0.5);
    assert.deepEqual(parse(a.yaml!).spec.http[0].route, [{ destination: { host: 'reviews', subset: 'v1' } }], 'the YAML is what is applied');
  });

  test('a cause far weaker than the first (under a quarter of its score) is not acted on, and the plan says why', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    const weak = cause({ kind: 'instance', namespace: NS, service: 'reviews', workload: 'reviews-v1', instance: 'reviews-v1-0' }, 'crash', 0.2);
    openIncident(cp, [cause(v3, 'errors', 0.9), weak], NOW);
    const plan = cp.recovery.plan({});
    assert.deepEqual(plan.actions.map((a) => a.kind), ['shift-traffic'], JSON.stringify(plan));
    assert.ok(plan.notes.some((n) => /cause 2 .*not acted on, its score 0\.20 is under 25% of the first cause's 0\.90/.test(n)), plan.notes.join('\n'));
    const other = (await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`)).cp;
    openIncident(other, [cause(v3, 'errors', 0.9), { ...weak, score: 0.3 }], NOW);
    assert.ok(other.recovery.plan({}).actions.some((a) => a.kind === 'restart-instance'), 'at a third of the first it is');
  });

  test('without any route config, shift-traffic creates subsets and a VirtualService over the healthy versions', async () => {
    const { cp } = await fresh();
    openIncident(cp, [cause(v3, 'errors')], NOW);
    const a = cp.recovery.plan({}).actions[0];
    assert.equal(a.kind, 'shift-traffic');
    const dr = a.config.find((c) => c.kind === 'DestinationRule')!;
    assert.equal(dr.previous, null);
    assert.deepEqual((dr.raw as any).spec.subsets.map((s: any) => s.name), ['v1', 'v2', 'v3']);
    const vs = a.config.find((c) => c.kind === 'VirtualService')!;
    assert.deepEqual((vs.raw as any).spec.http[0].route.map((d: any) => [d.destination.subset, d.weight]), [['v1', 50], ['v2', 50]]);
  });

  test('never onto an unhealthy subset: with v1 and v2 not ready, shift-traffic is rejected with the reason', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    cp.registry.setHealthy(NS, 'reviews-v1-0', false);
    cp.registry.setHealthy(NS, 'reviews-v2-0', false);
    openIncident(cp, [cause(v3, 'errors')], NOW);
    const a = cp.recovery.plan({}).actions[0];
    assert.equal(a.kind, 'shift-traffic');
    assert.match(a.rejected ?? '', /unhealthy: no instance of reviews version v1 is ready/);
  });

  test('a version failing a check of the incident is not a target either', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    const inc = openIncident(cp, [cause(v3, 'errors')], NOW);
    cp.diagnosis.incidents.recordDetection(inc.id, { check: 'error-ratio', subject: 'workload reviews-v1.bookinfo', namespace: NS, value: 0.3, threshold: 0.02, window: '5s', at: NOW });
    const a = cp.recovery.plan({}).actions[0];
    // v1 fails: the route goes to v2 (healthy) instead.
    assert.equal(a.rejected, undefined, a.rejected);
    assert.deepEqual((a.config.find((c) => c.kind === 'VirtualService')!.raw as any).spec.http[0].route.map((d: any) => d.destination.subset), ['v2']);
  });

  test('a crashed instance: restart (quarantined meanwhile) first, quarantine as the fallback', async () => {
    const { cp } = await fresh();
    openIncident(cp, [cause({ kind: 'instance', namespace: NS, service: 'ratings', workload: 'ratings-v1', instance: 'ratings-v1-0' }, 'crash')], NOW);
    const plan = cp.recovery.plan({});
    assert.deepEqual(plan.actions.map((a) => a.kind), ['restart-instance', 'quarantine-instance']);
    assert.deepEqual(plan.actions[0].platform.map((p) => p.op), ['quarantine', 'restart']);
    assert.equal(plan.actions[0].blastRadius.instances, 1);
    assert.equal(plan.actions[0].blastRadius.trafficShare, 0.5);
  });

  test('quarantine limits: never more than half of a service quarantined, nor fewer than half serving', async () => {
    const { cp } = await fresh();
    cp.quarantine.set(NS, 'ratings-v1-1', true);
    openIncident(cp, [cause({ kind: 'instance', namespace: NS, service: 'ratings', workload: 'ratings-v1', instance: 'ratings-v1-0' }, 'errors')], NOW);
    const [q] = cp.recovery.plan({}).actions;
    assert.equal(q.kind, 'quarantine-instance');
    assert.match(q.rejected ?? '', /would quarantine 2 of 2 instances of ratings \(limit 50%\)/);
    cp.quarantine.set(NS, 'ratings-v1-1', false);
    cp.registry.setHealthy(NS, 'ratings-v1-1', false);
    cp.recovery.settings = { ...cp.recovery.settings, maxQuarantineShare: 1 };
    const [q2] = cp.recovery.plan({}).actions;
    assert.match(q2.rejected ?? '', /would leave 0 of 2 instances of ratings serving \(minimum 50%\)/);
  });

  test('a config change is reverted from the store history: the spec it replaced comes back', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    const version = await put(cp, REVIEWS_VS_50_50.replace('subset: v1}, weight: 50', 'subset: missing}, weight: 50'));
    openIncident(cp, [cause({ kind: 'config-change', namespace: NS, resource: { kind: 'VirtualService', namespace: NS, name: 'reviews', configVersion: version } }, 'routing')], NOW);
    const [a] = cp.recovery.plan({}).actions;
    assert.equal(a.kind, 'revert-config');
    assert.equal(a.config[0].op, 'apply');
    assert.equal((a.config[0].raw as any).spec.http[0].route[0].destination.subset, 'v1', 'the previous spec');
    assert.equal((a.config[0].previous as any).spec.http[0].route[0].destination.subset, 'missing', 'rollback puts back what is in force now');
  });

  test('a change that created a resource is reverted by deleting it', async () => {
    const { cp } = await fresh(REVIEWS_DR);
    const version = await put(cp, REVIEWS_VS_50_50);
    openIncident(cp, [cause({ kind: 'config-change', namespace: NS, resource: { kind: 'VirtualService', namespace: NS, name: 'reviews', configVersion: version } }, 'routing')], NOW);
    const [a] = cp.recovery.plan({}).actions;
    assert.deepEqual([a.config[0].op, a.config[0].name], ['delete', 'reviews']);
    assert.ok(a.config[0].previous, 'the resource in force is kept to roll the delete back');
  });

  test('an external outage without a declared failover gets no action, and the notes say why', async () => {
    const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: pay, namespace: bookinfo}
spec: {hosts: [pay.example.test], location: MESH_EXTERNAL, resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}`;
    const { cp } = await fresh(se);
    openIncident(cp, [cause({ kind: 'external', namespace: NS, host: 'pay.example.test' }, 'outage')], NOW);
    const plan = cp.recovery.plan({});
    assert.deepEqual(plan.actions, []);
    assert.ok(plan.notes.some((n) => /no failover for pay\.example\.test: annotate its ServiceEntry bookinfo\/pay with meshmedic\.io\/failover/.test(n)), JSON.stringify(plan.notes));
  });

  test('with a declared failover, the external host is routed to its backup', async () => {
    const se = (name: string, host: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: bookinfo${extra}}
spec: {hosts: [${host}], location: MESH_EXTERNAL, resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}`;
    const { cp } = await fresh(`${se('pay', 'pay.example.test', ', annotations: {meshmedic.io/failover: backup.example.test}')}\n---\n${se('backup', 'backup.example.test')}`);
    openIncident(cp, [cause({ kind: 'external', namespace: NS, host: 'pay.example.test' }, 'outage')], NOW);
    const [a] = cp.recovery.plan({}).actions;
    assert.equal(a.kind, 'failover-external');
    assert.deepEqual((a.config[0].raw as any).spec, { hosts: ['pay.example.test'], http: [{ route: [{ destination: { host: 'backup.example.test', port: { number: 80 } } }] }] });
  });

  test('overload: connection pool sized (raised when the caps in force overflow), then scale-up', async () => {
    const tiny = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: bookinfo}
spec: {host: ratings, trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1, http2MaxRequests: 1}}}}`;
    const { cp } = await fresh(tiny);
    openIncident(cp, [cause({ kind: 'overload', namespace: NS, service: 'ratings' }, 'overload')], NOW);
    const plan = cp.recovery.plan({});
    assert.deepEqual(plan.actions.map((a) => a.kind), ['limit-concurrency', 'scale-up']);
    assert.match(plan.actions[0].summary, /maxConnections 1 -> 64/);
    assert.deepEqual((plan.actions[0].config[0].raw as any).spec.trafficPolicy.connectionPool.tcp, { maxConnections: 64 });
    assert.deepEqual(plan.actions[1].platform, [{ op: 'scale', namespace: NS, workload: 'ratings-v1', add: 1 }]);
  });

  test('a slow service gets timeouts and retries on the routes to it', async () => {
    const { cp } = await fresh();
    const slow = cause({ kind: 'service', namespace: NS, service: 'ratings' }, 'latency');
    slow.evidence = [{ signal: 'metric', text: 'slow', figures: { meanMs: 900, baselineMeanMs: 100 } }];
    openIncident(cp, [slow], NOW);
    const [a] = cp.recovery.plan({}).actions as PlannedAction[];
    assert.equal(a.kind, 'timeout-retry');
    const http = (a.config[0].raw as any).spec.http[0];
    assert.deepEqual([http.timeout, http.retries.attempts, http.retries.perTryTimeout], ['1.2s', 2, '0.4s']);
  });

  test('causes no action treats are explained; -r SERVICE puts that service\'s causes first', async () => {
    const { cp } = await fresh(`${REVIEWS_DR}---\n${REVIEWS_VS_50_50}`);
    openIncident(cp, [
      cause({ kind: 'security-policy', namespace: NS }, 'denied', 0.9),
      cause({ kind: 'instance', namespace: NS, service: 'ratings', workload: 'ratings-v1', instance: 'ratings-v1-0' }, 'errors', 0.8),
      cause(v3, 'errors', 0.7),
    ], NOW);
    const all = cp.recovery.plan({});
    assert.deepEqual(all.actions.map((a) => a.kind), ['quarantine-instance', 'shift-traffic']);
    assert.ok(all.notes.some((n) => /revert-config not proposed/.test(n)), JSON.stringify(all.notes));
    const focused = cp.recovery.plan({ service: 'reviews' });
    assert.deepEqual(focused.actions.map((a) => a.kind), ['shift-traffic', 'quarantine-instance']);
  });

  test('nothing open: E_RECOVERY_NO_INCIDENT', async () => {
    const { cp } = await fresh();
    assert.throws(() => cp.recovery.plan({}), (e: any) => e.code === 'E_RECOVERY_NO_INCIDENT');
  });
});
