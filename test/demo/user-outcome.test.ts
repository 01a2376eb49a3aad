import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAnswer, classifyError, degradedPart } from '../../src/demo/user-outcome.js';

// What counts as a failed page for a Bookinfo user.

const page = (calls: unknown[]) => JSON.stringify({ service: 'productpage', calls });

test('a whole page on time is a success', () => {
  assert.deepEqual(classifyAnswer(200, page([{ service: 'details', status: 200, body: { calls: [] } }]), 12), { ok: true });
});

test('an error status, a degraded page and a slow page are failures, with the reason', () => {
  assert.deepEqual(classifyAnswer(503, 'no healthy upstream', 3), { ok: false, reason: '503' });
  assert.deepEqual(classifyAnswer(200, page([{ service: 'reviews', status: 500, fallback: 'Sorry, product reviews are currently unavailable for this book.' }]), 8), { ok: false, reason: 'degraded (reviews)' });
  assert.deepEqual(classifyAnswer(200, page([]), 1500), { ok: false, reason: 'slow (1.5 s)' });
});

test('a fallback deep in the tree (reviews without stars) degrades the page', () => {
  const body = page([{ service: 'reviews', status: 200, body: { calls: [{ service: 'ratings', status: 0, fallback: 'Ratings service is currently unavailable' }] } }]);
  assert.equal(degradedPart(body), 'ratings');
  assert.equal(degradedPart(page([{ service: 'reviews', status: 200, body: { calls: [] } }])), undefined);
});

test('transport errors are named', () => {
  assert.equal(classifyError(Object.assign(new Error('x'), { name: 'TimeoutError' })).reason, 'timeout');
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).reason, 'connection refused');
});
