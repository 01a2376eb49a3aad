import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { parseSlo } from '../../src/diagnosis/detection/slo.js';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { FINAL_STATES } from '../../src/recovery/model.js';
import { ManualClock } from '../support/manual-clock.js';
import { cause, mesh, NS, openIncident, REVIEWS_DR, type Mesh } from './fixture.js';
import { World } from './world.js';

// The executor on the injected clock, against a real control plane (config store, registry,
// quarantine, incident store, audit log in SQLite, API on 127.10.23.x): reviews has v1, v2 and
// two instances of v3; v3 starts answering 500. The incident blames instance reviews-v3-0 first,
// version v3 second. Quarantining one v3 instance leaves half of v3's errors: the SLO still fails
// after the verification window, the quarantine is rolled back, and the next action (shifting
// traffic off v3) is applied and verified. Metrics come from the simulated data plane (world.ts),
// which routes as the control plane's state says.

const START = 1_795_000_000_000;

async function api(url: string, path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await request(`${url}${path}`, { method: method as 'GET', ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.statusCode, body: await res.body.json() };
}

async function until(world: World, done: () => boolean, maxSeconds = 60): Promise<void> {
  for (let i = 0; i < maxSeconds && !done(); i++) await world.step();
  assert.ok(done(), `not done within ${maxSeconds} simulated seconds`);
}

describe('executor: apply, verify, roll back, next action', () => {
  let m: Mesh;
  let clock: ManualClock;
  let world: World;
  let url: string;

  before(async () => {
    clock = new ManualClock(START);
    m = await mesh({ clock, host: '127.10.23.2', metrics: { enabled: false } }, REVIEWS_DR);
    m.cp.diagnosis.slo = parseSlo({ baselineMs: 20_000 });
    ({ url } = await m.cp.start());
    world = new World(m.cp, clock);
  });

  after(async () => {
    await m?.close();
  });

  test('the first action does not help: rolled back, and the next one applied and verified', async () => {
    const { cp } = m;
    await world.run(30);
    const t0 = clock.now();
    world.bad.add('v3');
    await world.run(6);
    const inc = openIncident(cp, [
      cause({ kind: 'instance', namespace: NS, service: 'reviews', workload: 'reviews-v3', instance: 'reviews-v3-0' }, 'errors', 0.9),
      cause({ kind: 'version', namespace: NS, service: 'reviews', workload: 'reviews-v3', version: 'v3' }, 'errors', 0.8),
    ], clock.now(), 'service reviews.bookinfo', t0);

    // What the audit log says at the moment each change reaches the control plane.
    const seenAtChange: string[] = [];
    const stateOf = (id: string) => cp.recovery.audit.get(id)?.state;
    const unq = cp.quarantine.watch(() => seenAtChange.push(`quarantine:${stateOf('a1')}`));
    const uns = cp.store.watch(() => seenAtChange.push(`config:${stateOf('a2')}`));

    const started = await api(url, '/api/v1/recovery/run', 'POST', {});
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.deepEqual(started.body.actions.map((a: RecoveryAction) => [a.id, a.kind]), [['a1', 'quarantine-instance'], ['a2', 'shift-traffic']]);
    assert.equal(started.body.actions[0].state, 'verifying', 'the answer comes once the first action is applied');
    assert.ok(cp.quarantine.has(NS, 'reviews-v3-0'));

    await until(world, () => cp.recovery.actions(inc.id).every((a) => FINAL_STATES.includes(a.state)));
    unq();
    uns();
    const [a1, a2] = cp.recovery.actions(inc.id);
    assert.equal(a1.state, 'rolled-back', a1.reason);
    assert.match(a1.reason!, /the SLO did not hold after 10 s: service reviews\.bookinfo: \d+(\.\d+)?% errors/);
    assert.ok(a1.before!.errorRatio > 0.4 && a1.before!.errorRatio < 0.6, `before: ${JSON.stringify(a1.before)}`);
    assert.ok(a1.after!.errorRatio > 0.25 && a1.after!.errorRatio < 0.4, `one of two bad instances out leaves a third of the errors: ${JSON.stringify(a1.after)}`);
    assert.equal(a1.after!.healthy, false);
    assert.equal(cp.quarantine.has(NS, 'reviews-v3-0'), false, 'the quarantine is lifted by the rollback');

    assert.equal(a2.state, 'verified', a2.reason);
    assert.equal(a2.after!.errorRatio, 0);
    assert.equal(a2.after!.healthy, true);
    assert.ok(a2.after!.rps > 30, JSON.stringify(a2.after));
    assert.ok(a2.appliedAt! >= a1.endedAt!, 'the second action runs after the first was undone');
    const vs = cp.store.get('VirtualService', NS, 'reviews');
    assert.deepEqual(vs?.raw.spec.http[0].route.map((d: any) => d.destination.subset), ['v1', 'v2'], 'the shift is kept');

    // Audit log before apply: each change reached the control plane while its action was recorded `applying`.
    // (the quarantine's lift happens during a1's rollback, while it is still `verifying`; `rolled-back` is written once undone)
    assert.deepEqual(seenAtChange, ['quarantine:applying', 'quarantine:verifying', 'config:applying']);
    assert.deepEqual(cp.recovery.audit.trail('a1').map((e) => e.state), ['proposed', 'applying', 'verifying', 'rolled-back']);
    assert.deepEqual(cp.recovery.audit.trail('a2').map((e) => e.state), ['proposed', 'applying', 'verifying', 'verified']);

    // The incident's timeline tells the story, and the API serves the incident with its actions.
    const got = await api(url, `/api/v1/incidents/${inc.id}`);
    assert.equal(got.status, 200);
    const kinds = got.body.timeline.filter((e: any) => e.kind.startsWith('action-')).map((e: any) => `${e.kind} ${e.data.action}`);
    assert.deepEqual(kinds, ['action-proposed a1', 'action-proposed a2', 'action-applied a1', 'action-rolled-back a1', 'action-applied a2', 'action-verified a2']);
    assert.deepEqual(got.body.actions.map((a: RecoveryAction) => [a.id, a.state]), [['a1', 'rolled-back'], ['a2', 'verified']]);
    assert.ok(got.body.actions[1].before && got.body.actions[1].after, 'before/after figures are served');
  });

  test('a verified action rolled back by hand: the config is exactly as before it', async () => {
    const { cp } = m;
    const before = cp.store.get('VirtualService', NS, 'reviews');
    assert.ok(before === undefined || before.raw.spec.http[0].route.length === 2);
    const r = await api(url, '/api/v1/recovery/actions/a2/rollback', 'POST');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'rolled-back');
    assert.equal(cp.store.get('VirtualService', NS, 'reviews'), undefined, 'the VirtualService did not exist before the shift: it is deleted');
    const again = await api(url, '/api/v1/recovery/actions/a2/rollback', 'POST');
    assert.deepEqual([again.status, again.body.error.code], [409, 'E_RECOVERY_STATE']);
    const missing = await api(url, '/api/v1/recovery/actions/a99');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'E_RECOVERY_ACTION_NOT_FOUND']);
  });

  test('rate limit: beyond maxActionsPerMinute an action is rejected with the reason', async () => {
    const { cp } = m;
    // a1 and a2 were applied less than a minute ago (simulated).
    cp.recovery.settings = { ...cp.recovery.settings, maxActionsPerMinute: 2 };
    const inc = cp.diagnosis.incidents.openIncidents()[0];
    const started = await api(url, '/api/v1/recovery/run', 'POST', { namespace: NS, service: 'reviews' });
    assert.equal(started.status, 202);
    await cp.recovery.idle();
    const fresh = cp.recovery.actions(inc.id).filter((a) => a.id !== 'a1' && a.id !== 'a2');
    assert.ok(fresh.length > 0);
    assert.ok(fresh.every((a) => a.state === 'rejected' && /rate limit: 2 action\(s\) applied in the last minute \(at most 2\)/.test(a.reason ?? '')), JSON.stringify(fresh.map((a) => [a.id, a.state, a.reason])));
    cp.recovery.settings = { ...cp.recovery.settings, maxActionsPerMinute: 6 };
  });

  test('dry run over the API records nothing; bad input is refused', async () => {
    const { cp } = m;
    const n = cp.recovery.actions().length;
    const plan = await api(url, '/api/v1/recovery/run', 'POST', { dryRun: true });
    assert.equal(plan.status, 200);
    assert.ok(plan.body.actions.length > 0 && plan.body.actions.every((a: any) => a.id === undefined));
    const viaGet = await api(url, `/api/v1/recovery/plan?namespace=${NS}&service=reviews`);
    assert.equal(viaGet.status, 200);
    assert.equal(cp.recovery.actions().length, n, 'nothing recorded');
    const bad = await api(url, '/api/v1/recovery/plan?service=Not_A_Name');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'E_BAD_REQUEST']);
    const none = await api(url, '/api/v1/recovery/plan?namespace=elsewhere');
    assert.deepEqual([none.status, none.body.error.code], [404, 'E_RECOVERY_NO_INCIDENT']);
  });
});
