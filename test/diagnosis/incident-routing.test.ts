import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IncidentTracker } from '../../src/diagnosis/detection/incident-tracker.js';
import { trafficDropDetector } from '../../src/diagnosis/detection/traffic-drop.js';
import { errorRatioDetector } from '../../src/diagnosis/detection/error-ratio.js';
import { DEFAULT_SLO } from '../../src/diagnosis/detection/slo.js';
import type { Detection } from '../../src/diagnosis/model.js';
import { bookinfo, R1, R2, R3, readyInstances, snapshotOf, type Call } from './snapshot-fixture.js';

// Which incident a failing check lands in, and what must not fail at all:
// - a check whose subject an open incident holds feeds that incident; a new subject joins the
//   newest incident of its namespace while that one gathers its symptoms (two windows), and
//   later opens an incident of its own (a new fault must not be ranked inside an old one);
// - each incident closes on its own subjects' health;
// - an instance recovery quarantined (withdrawn on purpose) losing its traffic is no symptom;
// - a proxy's own failure reply to a gRPC call (HTTP 200, a response flag) is an error.

const WINDOW = 5000;
let ids = 0;
const tracker = () => new IncidentTracker({ closeAfterMs: () => 5000, windowMs: () => WINDOW, nextId: () => `i${++ids}` });
const det = (subject: string, at: number, check = 'error-ratio', namespace = 'bookinfo'): Detection => ({ check, subject, namespace, value: 0.5, threshold: 0.02, window: '5s', at });

describe('incident routing', () => {
  test('symptoms within two windows join; a new subject later opens its own incident; each closes on its own', () => {
    const t = tracker();
    const t0 = 1_000_000;
    const a = t.update(t0, [det('service ratings.bookinfo', t0)]);
    assert.equal(a.opened.length, 1);
    const first = a.opened[0];
    // A caller's errors 4 s later: the same fault spreading.
    const b = t.update(t0 + 4000, [det('service ratings.bookinfo', t0 + 4000), det('service reviews.bookinfo', t0 + 4000)]);
    assert.equal(b.opened.length, 0);
    assert.deepEqual(first.detections.map((d) => d.subject), ['service ratings.bookinfo', 'service reviews.bookinfo']);
    // 20 s later, while the first still fails, a subject it never held: a new onset.
    const c = t.update(t0 + 20_000, [det('service ratings.bookinfo', t0 + 20_000), det('service details.bookinfo', t0 + 20_000)]);
    assert.equal(c.opened.length, 1);
    const second = c.opened[0];
    assert.notEqual(second.id, first.id);
    assert.equal(second.onsetAt, t0 + 20_000 - WINDOW);
    assert.deepEqual(second.detections.map((d) => d.subject), ['service details.bookinfo']);
    assert.equal(first.detections.length, 2, 'ratings kept feeding the first incident');
    // The second one's symptoms stop: it closes; the first, still failing, stays open.
    t.update(t0 + 21_000, [det('service ratings.bookinfo', t0 + 21_000)]);
    const d = t.update(t0 + 26_000, [det('service ratings.bookinfo', t0 + 26_000)]);
    assert.deepEqual(d.closed.map((i) => i.id), [second.id]);
    assert.deepEqual(t.open().map((i) => i.id), [first.id]);
  });

  test('a single slow round opens nothing; confirmed the next round it does', () => {
    const t = tracker();
    const slow = (at: number) => ({ ...det('service reviews.bookinfo', at, 'latency'), value: 30, threshold: 25 });
    assert.equal(t.update(0, [slow(0)]).opened.length, 0);
    assert.equal(t.update(1000, [slow(1000)]).opened.length, 1);
  });

  test('namespaces keep apart', () => {
    const t = tracker();
    t.update(0, [det('service a.x', 0, 'error-ratio', 'x')]);
    const r = t.update(1000, [det('service b.y', 1000, 'error-ratio', 'y')]);
    assert.equal(r.opened.length, 1);
    assert.equal(t.open().length, 2);
  });
});

describe('what is not a symptom, and what is', () => {
  // reviews-v1-0 stops getting requests (v2 and v3 take its share).
  const drained = (): Call[] => bookinfo().map((c) => (c.to === R1 ? { ...c, rps: 0.01 } : c.to === R2 || c.to === R3 ? { ...c, rps: 4.5 } : c));

  test('an instance that loses its traffic fails traffic-drop, unless the control plane withdrew it (quarantine)', () => {
    const instances = readyInstances(bookinfo());
    const failing = trafficDropDetector.evaluate(snapshotOf({ baseline: bookinfo(), current: drained(), instances }), DEFAULT_SLO);
    assert.deepEqual(failing.map((d) => d.subject), ['instance reviews-v1-0.bookinfo']);
    const quarantined = instances.map((i) => (i.name === R1.pod ? { ...i, withdrawn: true } : i));
    assert.deepEqual(trafficDropDetector.evaluate(snapshotOf({ baseline: bookinfo(), current: drained(), instances: quarantined }), DEFAULT_SLO), []);
  });

  test('a gRPC call the proxy failed itself (HTTP 200 + flag NC) counts as an error', () => {
    const current = bookinfo().map((c) => (c.service === 'details' ? { ...c, to: null, code: '200', flags: 'NC', flagAt: 'source' as const } : c));
    const failing = errorRatioDetector.evaluate(snapshotOf({ baseline: bookinfo(), current }), DEFAULT_SLO);
    assert.ok(failing.some((d) => d.check === 'error-ratio' && d.subject === 'service details.bookinfo'), JSON.stringify(failing.map((d) => d.subject)));
    // An injected delay alone (DI) is no failure.
    const delayed = bookinfo().map((c) => (c.service === 'details' ? { ...c, code: '200', flags: 'DI', flagAt: 'both' as const } : c));
    assert.equal(errorRatioDetector.evaluate(snapshotOf({ baseline: bookinfo(), current: delayed }), DEFAULT_SLO).filter((d) => d.check === 'error-ratio').length, 0);
  });
});
