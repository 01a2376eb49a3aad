import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosisService } from '../../src/diagnosis/diagnosis-service.js';
import { IncidentStore } from '../../src/diagnosis/incidents/incident-store.js';
import { parseSlo } from '../../src/diagnosis/detection/slo.js';
import { describeTarget } from '../../src/diagnosis/model.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { StoreMetricsSource } from '../../src/telemetry/store/store-source.js';
import { ManualClock } from '../support/manual-clock.js';
import { MeshSim, simPod, type Flow } from './mesh-sim.js';

// Detection on the injected clock: Istio's series scraped once a second into the embedded store,
// the diagnosis round evaluated 300 ms after each scrape (as the control plane schedules it), a
// fault starting between two scrapes at t0. The incident must open by t0 + 3 s, name the right
// top cause, close once the checks held long enough, and be in the database afterwards.

const START = 1_700_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'mm-detection-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PP = simPod('productpage');
const R2 = simPod('reviews', 'v2');
const R3 = simPod('reviews', 'v3');
const RATINGS = simPod('ratings');

function healthy(sim: MeshSim): void {
  sim.set('in', { from: null, service: 'productpage', to: PP, rps: 20, ms: 12 });
  sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 10, ms: 6 });
  sim.set('r3', { from: PP, service: 'reviews', to: R3, rps: 10, ms: 6 });
  sim.set('r2-ratings', { from: R2, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
  sim.set('r3-ratings', { from: R3, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
}

function setup(name: string) {
  const clock = new ManualClock(START);
  const store = new MetricsStore({ now: clock.now });
  const sim = new MeshSim(store, START);
  const service = new DiagnosisService({ metrics: new StoreMetricsSource(store, clock.now) }, clock, { databaseFile: join(dir, `${name}.db`), outlierEvents: false });
  /** Scrapes every whole second and evaluates 300 ms after it, until `until`; `fault` is applied at its time exactly. */
  const runUntil = async (until: number, fault?: { at: number; apply: () => void }) => {
    while (clock.now() + 1000 <= until + 300) {
      const next = Math.floor(clock.now() / 1000) * 1000 + 1000;
      if (fault && fault.at > clock.now() && fault.at <= next + 300) {
        sim.advanceTo(fault.at);
        fault.apply();
      }
      clock.advance(next + 300 - clock.now());
      sim.advanceTo(next);
      await service.evaluate();
    }
  };
  return { clock, store, sim, service, runUntil };
}

describe('detection on the injected clock', () => {
  test('errors from ratings starting at t0 open an incident by t0 + 3 s, blaming ratings', async () => {
    const { sim, service, runUntil } = setup('errors');
    healthy(sim);
    await runUntil(START + 90_000);
    assert.equal(service.incidents.list().length, 0, 'no incident while healthy');
    const t0 = START + 90_500;
    const fault = (f: Flow): Flow => ({ ...f, code: '500' });
    let detectedAt: number | undefined;
    await runUntil(t0 + 3000, {
      at: t0,
      apply: () => {
        for (const n of ['r2-ratings', 'r3-ratings']) sim.set(n, fault({ from: n === 'r2-ratings' ? R2 : R3, service: 'ratings', to: RATINGS, rps: 10, ms: 2 }));
      },
    });
    const list = service.incidents.list();
    assert.equal(list.length, 1, JSON.stringify(list));
    detectedAt = list[0].openedAt;
    assert.ok(detectedAt <= t0 + 3000, `detected ${detectedAt - t0} ms after the fault`);
    const inc = service.incidents.get(list[0].id)!;
    assert.equal(inc.status, 'open');
    assert.ok(inc.detections.some((d) => d.check === 'error-ratio' && d.subject === 'service ratings.bookinfo'), JSON.stringify(inc.detections));
    assert.equal(describeTarget(inc.causes[0].target), 'service ratings.bookinfo', JSON.stringify(inc.causes.map((c) => c.summary)));
    console.log(`detection: errors detected ${detectedAt - t0} ms after t0`);
  });

  test('latency on one version opens an incident by t0 + 3 s and blames that version; the incident closes when it ends', async () => {
    const { sim, service, runUntil } = setup('latency');
    healthy(sim);
    await runUntil(START + 90_000);
    const t0 = START + 90_700;
    await runUntil(t0 + 3000, { at: t0, apply: () => sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 10, ms: 206 }) });
    const [summary] = service.incidents.list();
    assert.ok(summary, 'an incident opened');
    assert.ok(summary.openedAt <= t0 + 3000, `detected ${summary.openedAt - t0} ms after the fault`);
    console.log(`detection: latency detected ${summary.openedAt - t0} ms after t0`);
    // Let it run a little, then heal; it closes after closeAfterMs of healthy checks.
    await runUntil(t0 + 10_000);
    const open = service.incidents.get(summary.id)!;
    assert.equal(describeTarget(open.causes[0].target), 'version v2 of reviews.bookinfo (workload reviews-v2)', JSON.stringify(open.causes.map((c) => c.summary)));
    assert.ok(open.causes[0].evidence.some((e) => /mean latency rose/.test(e.text) && e.query?.includes('istio_request_duration_milliseconds_sum')));
    healthy(sim);
    await runUntil(t0 + 10_000 + 40_000);
    const closed = service.incidents.get(summary.id)!;
    assert.equal(closed.status, 'closed');
    assert.ok(closed.closedAt! > t0 + 10_000);
    assert.deepEqual(closed.timeline.map((e) => e.kind).filter((k) => k !== 'detection'), ['opened', 'top-cause', 'closed']);
    await service.stop();
    // The record outlives the process that wrote it.
    const reopened = new IncidentStore(join(dir, 'latency.db'), { readonly: true });
    const again = reopened.get(summary.id)!;
    reopened.close();
    assert.equal(again.status, 'closed');
    assert.equal(describeTarget(again.causes[0].target), 'version v2 of reviews.bookinfo (workload reviews-v2)');
    assert.ok(again.causes[0].evidence.length > 0);
  });

  test('recovering from a fault is not a new incident (the baseline keeps out of the faulty period)', async () => {
    const { sim, service, runUntil } = setup('recovery');
    // A baseline as short as the fault: without care it would hold nothing but the fault.
    service.slo = parseSlo({ baselineMs: 20_000, closeAfterMs: 4000 });
    sim.set('in', { from: null, service: 'productpage', to: PP, rps: 20, ms: 45 });
    sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 10, ms: 30 });
    sim.set('r3', { from: PP, service: 'reviews', to: R3, rps: 10, ms: 30 });
    sim.set('r2-ratings', { from: R2, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
    sim.set('r3-ratings', { from: R3, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
    await runUntil(START + 70_000);
    // Failing fast: errors, and every call quicker than when it worked.
    const t0 = START + 70_500;
    await runUntil(t0 + 20_000, {
      at: t0,
      apply: () => {
        sim.set('in', { from: null, service: 'productpage', to: PP, rps: 20, ms: 2, code: '500' });
        sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 10, ms: 1, code: '500' });
        sim.set('r3', { from: PP, service: 'reviews', to: R3, rps: 10, ms: 1, code: '500' });
        sim.remove('r2-ratings');
        sim.remove('r3-ratings');
      },
    });
    sim.set('in', { from: null, service: 'productpage', to: PP, rps: 20, ms: 45 });
    sim.set('r2', { from: PP, service: 'reviews', to: R2, rps: 10, ms: 30 });
    sim.set('r3', { from: PP, service: 'reviews', to: R3, rps: 10, ms: 30 });
    sim.set('r2-ratings', { from: R2, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
    sim.set('r3-ratings', { from: R3, service: 'ratings', to: RATINGS, rps: 10, ms: 2 });
    await runUntil(t0 + 20_000 + 60_000);
    const list = service.incidents.list();
    assert.equal(list.length, 1, JSON.stringify(list.map((i) => [i.subject, i.openedAt - t0, i.closedAt && i.closedAt - t0])));
    assert.equal(list[0].status, 'closed');
    await service.stop();
  });

  test('a healthy mesh with its load going away opens nothing', async () => {
    const { sim, service, runUntil } = setup('quiet');
    healthy(sim);
    await runUntil(START + 70_000);
    for (const n of ['in', 'r2', 'r3', 'r2-ratings', 'r3-ratings']) sim.remove(n);
    await runUntil(START + 90_000);
    assert.deepEqual(service.incidents.list(), []);
    await service.stop();
  });
});
