import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeUpTo, countRequests, restoration, windowHolds, type Bucket } from '../../src/demo/slo-window.js';

// When users' SLO counts as restored, from 1 s buckets of what they saw.

const spec = { windowS: 5, minSuccess: 0.99 };
/** 20 requests a second; `failed[i]` of bucket i failed. */
const buckets = (failed: number[], pending: number[] = []): Bucket[] => failed.map((f, i) => ({ total: 20, failed: f, pending: pending[i] ?? 0 }));

test('a window holds with one failure in a hundred, not with two', () => {
  assert.equal(windowHolds(buckets([1, 0, 0, 0, 0]), 0, 4, spec), true);
  assert.equal(windowHolds(buckets([1, 0, 0, 1, 0]), 0, 4, spec), false);
  assert.equal(windowHolds([], 0, 4, spec), true, 'no requests, nothing broken');
});

test('restored at the second after the last window that failed, once the hold has passed', () => {
  // injection at 2; failures from 3 to 6; clean from 7 on.
  const b = buckets([0, 0, 0, 5, 8, 9, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  const r = restoration(b, 2, 15, spec, 5);
  assert.equal(r.broken, true);
  assert.equal(r.restoredIndex, 7);
  // Not yet known while fewer than `hold` clean seconds follow.
  assert.equal(restoration(b.slice(0, 10), 2, 10, spec, 5).restoredIndex, null);
});

test('a relapse after an apparent recovery moves the restoration later', () => {
  const b = buckets([0, 5, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(restoration(b, 0, 16, spec, 5).restoredIndex, 9);
});

test('a fault users never felt: not broken, restored at the injection', () => {
  const r = restoration(buckets([0, 0, 0, 0, 0, 0, 0, 0]), 2, 8, spec, 5);
  assert.deepEqual([r.broken, r.restoredIndex], [false, 2]);
});

test('buckets with requests still in flight, and the current second, are not complete', () => {
  const b = buckets([0, 0, 0, 0], [0, 0, 1, 0]);
  assert.equal(completeUpTo(b, 4), 1);
  assert.equal(completeUpTo(buckets([0, 0, 0]), 2), 1, 'the current second is never complete');
  // A failure hidden in a pending bucket cannot be called restored.
  assert.equal(restoration(buckets([0, 3, 0, 0, 0, 0, 0, 0], [0, 0, 1]), 0, 8, spec, 3).restoredIndex, null);
});

test('countRequests sums a range', () => {
  assert.deepEqual(countRequests(buckets([1, 2, 3, 4]), 1, 2), { failed: 5, total: 40 });
  assert.deepEqual(countRequests(buckets([1, 2]), 1, 9), { failed: 2, total: 20 });
});

test('serving: the clean seconds at the end of the complete record', async () => {
  const { cleanTail } = await import('../../src/demo/serving.js');
  assert.equal(cleanTail(buckets([3, 0, 0, 0, 0]), 5), 4);
  assert.equal(cleanTail(buckets([0, 0, 1]), 3), 0);
  assert.equal(cleanTail([{ total: 0, failed: 0, pending: 0 }, ...buckets([0])], 2), 1, 'a second without requests breaks the run');
});
