import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlo } from '../../src/diagnosis/detection/slo.js';
import { FINAL_STATES } from '../../src/recovery/model.js';
import { ManualClock } from '../support/manual-clock.js';
import { cause, mesh, NS, openIncident, put, REVIEWS_DR, reviewsVirtualService, type Mesh } from './fixture.js';
import { World } from './world.js';

// Verification judges what an action fixed. All of reviews' traffic goes to v1 (10 ms); v1
// becomes 1.2 s slow; recovery shifts the traffic to v2 and v3. Those answer in 40 ms: four
// times v1's old latency, so the latency detector alone would still fail reviews against its
// pre-incident baseline, but the shift removed almost all of the excess users felt, and it is
// kept. When v2 and v3 are slow too, the same shift fixes nothing and is rolled back. Real
// control plane, embedded metrics, simulated data plane (world.ts), injected clock.

const START = 1_796_000_000_000;

const REVIEWS_TO_V1 = reviewsVirtualService([{ subset: 'v1' }]);

async function until(world: World, done: () => boolean, maxSeconds = 60): Promise<void> {
  for (let i = 0; i < maxSeconds && !done(); i++) await world.step();
  assert.ok(done(), `not done within ${maxSeconds} simulated seconds`);
}

for (const c of [
  { name: 'a shift to versions slower than the old baseline but far faster than the fault is kept', otherMs: 40, expect: 'verified' },
  { name: 'a shift to versions that are as slow as the fault is rolled back', otherMs: 1100, expect: 'rolled-back' },
]) {
  describe(`verification of a latency fix: ${c.expect}`, () => {
    let m: Mesh;
    let clock: ManualClock;
    let world: World;

    before(async () => {
      clock = new ManualClock(START);
      m = await mesh({ clock, host: '127.10.23.3', metrics: { enabled: false } }, REVIEWS_DR);
      await put(m.cp, REVIEWS_TO_V1);
      m.cp.diagnosis.slo = parseSlo({ baselineMs: 20_000 });
      await m.cp.start();
      world = new World(m.cp, clock);
      world.ms.set('v2', c.otherMs).set('v3', c.otherMs);
    });
    after(async () => {
      await m?.close();
    });

    test(c.name, async () => {
      const { cp } = m;
      await world.run(30);
      const t0 = clock.now();
      world.ms.set('v1', 1200);
      await world.run(6);
      const inc = openIncident(cp, [cause({ kind: 'version', namespace: NS, service: 'reviews', workload: 'reviews-v1', version: 'v1' }, 'latency', 0.9)], clock.now(), 'service reviews.bookinfo', t0);
      const planned = await cp.recovery.run({ namespace: NS, service: 'reviews' });
      assert.equal(planned.actions[0].kind, 'shift-traffic');
      await until(world, () => FINAL_STATES.includes(cp.recovery.actions(inc.id)[0].state));
      const [shift] = cp.recovery.actions(inc.id);
      assert.equal(shift.state, c.expect, shift.reason);
      assert.ok(shift.before!.p99Ms! > 1000, `the fault was felt when the action was applied: ${JSON.stringify(shift.before)}`);
      if (c.expect === 'verified') assert.ok(shift.after!.p99Ms! < 200, JSON.stringify(shift.after));
      else assert.match(shift.reason!, /the SLO did not hold after 10 s: .*latency/);
    });
  });
}
