import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlo } from '../../src/diagnosis/detection/slo.js';
import type { RankedCause } from '../../src/diagnosis/model.js';
import { FINAL_STATES } from '../../src/recovery/model.js';
import { DEFAULT_SETTINGS } from '../../src/recovery/settings.js';
import { ManualClock } from '../support/manual-clock.js';
import { cause, mesh, NS, openIncident, REVIEWS_DR, type Mesh } from './fixture.js';
import { World } from './world.js';

// Manual and auto mode, and the policy, on the injected clock (the recovery loop's tick called
// as its timer would): manual mode proposes once the top cause is stable and waits for an
// approval; auto mode runs the plan itself; proposals of a closed incident are superseded; a
// platform operation that fails leaves nothing applied and the next action is tried; a quarantine
// of an instance that had crashed is lifted once it has been ready again for a while.

const START = 1_795_000_000_000;
const meshes: Mesh[] = [];
after(async () => {
  for (const m of meshes) await m.close();
});

async function setup(settings: Partial<typeof DEFAULT_SETTINGS> = {}) {
  const clock = new ManualClock(START);
  const m = await mesh({ clock, recovery: { settings: { ...DEFAULT_SETTINGS, ...settings } } }, REVIEWS_DR);
  meshes.push(m);
  m.cp.diagnosis.slo = parseSlo({ baselineMs: 20_000 });
  const world = new World(m.cp, clock);
  await world.run(30);
  return { cp: m.cp, clock, world };
}

/** An incident whose top cause was set at `topAt` (its timeline's `top-cause` entry). */
function incident(cp: Mesh['cp'], causes: RankedCause[], at: number, onset: number) {
  const inc = openIncident(cp, causes, at, 'service reviews.bookinfo', onset);
  cp.diagnosis.incidents.addTimeline(inc.id, { at, kind: 'top-cause', text: `top cause: ${causes[0].summary}` });
  return inc;
}

// Scored below `decisiveScore` (0.9): recovery waits for the ranking to settle.
const V3 = cause({ kind: 'version', namespace: NS, service: 'reviews', workload: 'reviews-v3', version: 'v3' }, 'errors', 0.8);

/** v3 starts answering 500; 5 s later an incident blames it; 3 s later (stable) recovery ticks. */
async function v3BreaksAndIsBlamed(settings: Partial<typeof DEFAULT_SETTINGS>) {
  const { cp, clock, world } = await setup(settings);
  const t0 = clock.now();
  world.bad.add('v3');
  await world.run(5);
  const inc = incident(cp, [V3], clock.now(), t0);
  await world.run(3);
  await cp.recovery.tick();
  return { cp, clock, world, inc };
}

async function settle(world: World, done: () => boolean, max = 40): Promise<void> {
  for (let i = 0; i < max && !done(); i++) await world.step();
  assert.ok(done(), 'not settled');
}

describe('recovery modes and policy', () => {
  test('manual mode: proposed once the top cause is stable, applied only when approved', async () => {
    const { cp, clock, world } = await setup();
    const t0 = clock.now();
    world.bad.add('v3');
    await world.run(5);
    const inc = incident(cp, [V3], clock.now(), t0);
    await cp.recovery.tick();
    assert.equal(cp.recovery.actions(inc.id).length, 0, 'the top cause is not stable for 3 s yet');
    await world.run(3);
    await cp.recovery.tick();
    const [a] = cp.recovery.actions(inc.id);
    assert.deepEqual([a.kind, a.state, a.mode], ['shift-traffic', 'proposed', 'manual']);
    await world.run(2);
    await cp.recovery.tick();
    assert.equal(cp.recovery.actions(inc.id).length, 1, 'proposed once');
    assert.equal(cp.store.get('VirtualService', NS, 'reviews'), undefined, 'nothing applied without approval');
    const approved = await cp.recovery.approve(a.id);
    assert.equal(approved.state, 'verifying');
    await settle(world, () => FINAL_STATES.includes(cp.recovery.action(a.id).state));
    assert.equal(cp.recovery.action(a.id).state, 'verified', cp.recovery.action(a.id).reason);
    await assert.rejects(cp.recovery.approve(a.id), (e: any) => e.code === 'E_RECOVERY_STATE');
  });

  test('a decisive top cause (score >= decisiveScore) is proposed at once, without waiting for the ranking to settle', async () => {
    const { cp, clock, world } = await setup();
    const t0 = clock.now();
    world.bad.add('v3');
    await world.run(5);
    const inc = incident(cp, [{ ...V3, score: 0.95 }], clock.now(), t0);
    await cp.recovery.tick();
    assert.deepEqual(cp.recovery.actions(inc.id).map((a) => [a.kind, a.state]), [['shift-traffic', 'proposed']]);
  });

  test('a ranking that keeps moving: the top cause of the moment is proposed once the incident is actWithinMs old', async () => {
    const { cp, clock, world } = await setup({ actWithinMs: 8000 });
    const t0 = clock.now();
    world.bad.add('v3');
    await world.run(2);
    const V2 = cause({ kind: 'version', namespace: NS, service: 'reviews', workload: 'reviews-v2', version: 'v2' }, 'errors', 0.7);
    const inc = incident(cp, [V3, V2], clock.now(), t0);
    for (let i = 0; i < 8; i++) {
      // The two causes trade places every 2 s: never stable for 3 s.
      const order = i % 4 < 2 ? [V3, V2] : [V2, V3];
      if (i % 2 === 0) {
        cp.diagnosis.incidents.saveCauses(inc.id, order, clock.now());
        cp.diagnosis.incidents.addTimeline(inc.id, { at: clock.now(), kind: 'top-cause', text: `top cause: ${order[0].summary}` });
      }
      await cp.recovery.tick();
      assert.equal(cp.recovery.actions(inc.id).length, 0, `nothing proposed at ${i} s`);
      await world.step();
    }
    await cp.recovery.tick();
    const proposed = cp.recovery.actions(inc.id);
    assert.ok(proposed.length > 0 && proposed.every((a) => a.state === 'proposed'), JSON.stringify(proposed.map((a) => [a.kind, a.state])));
  });

  test('auto mode: the control plane runs the plan by itself', async () => {
    const { cp, world, inc } = await v3BreaksAndIsBlamed({ auto: true });
    await settle(world, () => cp.recovery.actions(inc.id).some((a) => FINAL_STATES.includes(a.state)));
    const [a] = cp.recovery.actions(inc.id);
    assert.deepEqual([a.kind, a.state, a.mode], ['shift-traffic', 'verified', 'auto'], a.reason);
    assert.ok(a.before!.errorRatio > 0.3 && a.after!.errorRatio === 0, JSON.stringify([a.before, a.after]));
  });

  test('auto mode: a second fault joins the open incident after a verified action; its cause is planned for, the treated one is not', async () => {
    const { cp, clock, world, inc } = await v3BreaksAndIsBlamed({ auto: true });
    await settle(world, () => cp.recovery.actions(inc.id).some((a) => a.state === 'verified'));
    const first = cp.recovery.actions(inc.id).filter((a) => a.state === 'verified');
    assert.deepEqual(first.map((a) => [a.kind, a.cause.version]), [['shift-traffic', 'v3']]);
    // v2 breaks too; diagnosis puts it on top of the same incident.
    world.bad.add('v2');
    await world.run(5);
    const V2 = cause({ kind: 'version', namespace: NS, service: 'reviews', workload: 'reviews-v2', version: 'v2' }, 'errors', 0.8);
    cp.diagnosis.incidents.saveCauses(inc.id, [V2, V3], clock.now());
    cp.diagnosis.incidents.addTimeline(inc.id, { at: clock.now(), kind: 'top-cause', text: 'top cause: version v2' });
    const before = cp.recovery.actions(inc.id).length;
    await cp.recovery.tick();
    assert.equal(cp.recovery.actions(inc.id).length, before, 'nothing new before the new top cause is stable for 3 s');
    await world.run(3);
    await cp.recovery.tick();
    await settle(world, () => cp.recovery.actions(inc.id).some((a) => a.cause.version === 'v2' && FINAL_STATES.includes(a.state)));
    const fresh = cp.recovery.actions(inc.id).slice(before);
    assert.ok(fresh.length > 0 && fresh.every((a) => a.cause.version === 'v2'), JSON.stringify(fresh.map((a) => [a.kind, a.cause])));
    const shift = fresh.find((a) => a.state === 'verified');
    assert.equal(shift?.kind, 'shift-traffic', JSON.stringify(fresh.map((a) => [a.kind, a.state, a.reason])));
    const vs = cp.store.get('VirtualService', NS, 'reviews');
    assert.deepEqual(vs?.raw.spec.http[0].route.map((d: any) => d.destination.subset), ['v1']);
  });

  test('auto mode: after a verified action, a new top cause that is another face of the fixed fault gets nothing while the SLO holds', async () => {
    const { cp, clock, world, inc } = await v3BreaksAndIsBlamed({ auto: true });
    await settle(world, () => cp.recovery.actions(inc.id).some((a) => a.state === 'verified'));
    const n = cp.recovery.actions(inc.id).length;
    const instance = cause({ kind: 'instance', namespace: NS, service: 'reviews', workload: 'reviews-v3', instance: 'reviews-v3-0' }, 'errors', 0.8);
    cp.diagnosis.incidents.saveCauses(inc.id, [instance, V3], clock.now());
    cp.diagnosis.incidents.addTimeline(inc.id, { at: clock.now(), kind: 'top-cause', text: 'top cause: instance reviews-v3-0' });
    for (let i = 0; i < 5; i++) {
      await world.step();
      await cp.recovery.tick();
    }
    assert.equal(cp.recovery.actions(inc.id).length, n, JSON.stringify(cp.recovery.actions(inc.id).slice(n).map((a) => [a.kind, a.state])));
  });

  test('proposals of an incident that closed are superseded', async () => {
    const { cp, clock, world } = await setup();
    world.bad.add('v3');
    const inc = incident(cp, [V3], clock.now(), clock.now() - 2000);
    await world.run(4);
    await cp.recovery.tick();
    assert.equal(cp.recovery.actions(inc.id)[0].state, 'proposed');
    cp.diagnosis.incidents.markClosed(inc.id, clock.now());
    await cp.recovery.tick();
    const [a] = cp.recovery.actions(inc.id);
    assert.deepEqual([a.state, a.reason], ['superseded', `incident ${inc.id} closed`]);
  });

  test('a crashed instance: the restart fails (no mesh daemon), nothing stays applied, the quarantine is tried and later lifted', async () => {
    const { cp, clock, world } = await setup({ auto: true, liftQuarantineAfterMs: 5000 });
    cp.registry.setHealthy(NS, 'reviews-v3-0', false);
    const inc = incident(cp, [cause({ kind: 'instance', namespace: NS, service: 'reviews', workload: 'reviews-v3', instance: 'reviews-v3-0' }, 'crash')], clock.now(), clock.now() - 2000);
    await world.run(4);
    await cp.recovery.tick();
    await settle(world, () => cp.recovery.actions(inc.id).every((a) => FINAL_STATES.includes(a.state)));
    const [restart, quarantine] = cp.recovery.actions(inc.id);
    assert.equal(restart.kind, 'restart-instance');
    assert.equal(restart.state, 'failed');
    assert.match(restart.reason!, /E_RECOVERY_PLATFORM|no mesh daemon/);
    assert.equal(quarantine.state, 'verified', quarantine.reason);
    assert.equal(quarantine.readyAtApply, false);
    assert.ok(cp.quarantine.has(NS, 'reviews-v3-0'), 'held: the failed restart\'s own quarantine was undone, this one holds');
    // The instance comes back: its quarantine is lifted once it has been ready for 5 s.
    cp.registry.setHealthy(NS, 'reviews-v3-0', true);
    for (let i = 0; i < 4; i++) {
      await world.step();
      await cp.recovery.tick();
    }
    assert.equal(cp.recovery.action(quarantine.id).state, 'verified', 'not lifted before 5 s');
    for (let i = 0; i < 3; i++) {
      await world.step();
      await cp.recovery.tick();
    }
    const lifted = cp.recovery.action(quarantine.id);
    assert.equal(lifted.state, 'expired', lifted.reason);
    assert.match(lifted.reason!, /ready again for \d+ s: quarantine lifted/);
    assert.equal(cp.quarantine.has(NS, 'reviews-v3-0'), false);
  });

  test('a quarantined instance is sent unhealthy to every sidecar, whatever its readiness', async () => {
    const { cp } = await setup();
    const endpointsOf = () => cp.snapshotFor('productpage-v1-0.bookinfo')!.endpoints.flatMap((c) => c.endpoints).filter((e) => e.instance === 'reviews-v2-0');
    assert.ok(endpointsOf().length > 0 && endpointsOf().every((e) => e.healthy));
    cp.quarantine.set(NS, 'reviews-v2-0', true);
    cp.registry.upsert({ ...cp.registry.instance(NS, 'reviews-v2-0')!, healthy: true }); // a readiness probe saying it is fine
    assert.ok(endpointsOf().length > 0 && endpointsOf().every((e) => !e.healthy));
    cp.quarantine.set(NS, 'reviews-v2-0', false);
    assert.ok(endpointsOf().every((e) => e.healthy));
  });
});

describe('restart on a platform that restarts', () => {
  test('the instance is quarantined while it restarts, back in load balancing once ready, then verified over a full window', async () => {
    const clock = new ManualClock(START);
    let cpRef: Mesh['cp'] | undefined;
    const restarted: string[] = [];
    // The platform as the mesh daemon behaves: the application comes back (ready) 1.5 s after the restart.
    const platform = {
      name: 'test',
      quarantine: async (ns: string, name: string, on: boolean) => void cpRef!.quarantine.set(ns, name, on),
      restart: async (ns: string, name: string) => {
        restarted.push(name);
        clock.setTimeout(() => cpRef!.registry.setHealthy(ns, name, true), 1500);
      },
      scale: async () => ({ started: [] }),
      removeInstances: async () => undefined,
    };
    const m = await mesh({ clock, recovery: { platform, settings: { ...DEFAULT_SETTINGS, verifyWindowMs: 8000 } } }, REVIEWS_DR);
    meshes.push(m);
    cpRef = m.cp;
    const { cp } = m;
    cp.diagnosis.slo = parseSlo({ baselineMs: 20_000 });
    const world = new World(cp, clock);
    await world.run(30);
    cp.registry.setHealthy(NS, 'reviews-v3-0', false);
    const inc = incident(cp, [cause({ kind: 'instance', namespace: NS, service: 'reviews', workload: 'reviews-v3', instance: 'reviews-v3-0' }, 'crash')], clock.now(), clock.now() - 2000);
    await world.run(3);
    const run = await cp.recovery.run({});
    const id = (run.actions[0] as { id: string }).id;
    assert.deepEqual(restarted, ['reviews-v3-0']);
    assert.ok(cp.quarantine.has(NS, 'reviews-v3-0'), 'quarantined while it restarts');
    await settle(world, () => cp.recovery.action(id).liftedAt !== undefined, 5);
    assert.equal(cp.quarantine.has(NS, 'reviews-v3-0'), false, 'back once ready');
    const a = cp.recovery.action(id);
    assert.ok(a.liftedAt! - a.appliedAt! >= 1500 && a.liftedAt! - a.appliedAt! <= 2500, `lifted ${a.liftedAt! - a.appliedAt!} ms after the restart`);
    assert.equal(a.verifyUntil, a.liftedAt! + 8000, 'the window starts again when the instance is back');
    await settle(world, () => FINAL_STATES.includes(cp.recovery.action(id).state));
    const done = cp.recovery.action(id);
    assert.equal(done.state, 'verified', done.reason);
    assert.ok(done.after!.rps > 30);
    assert.equal(cp.recovery.actions(inc.id)[1].state, 'superseded');
  });
});
