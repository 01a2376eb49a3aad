import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SLO } from '../../src/diagnosis/detection/slo.js';
import { watchFor } from '../../src/recovery/slo-watch.js';

// An action is judged on the symptoms users had, not only on the service it touched: a timeout
// around productpage is not "verified" while the calls to reviews the incident found failing
// still fail.

test('the watch covers the cause and every failing service or edge destination of the incident, in its namespace', () => {
  const w = watchFor({ kind: 'service', namespace: 'bookinfo', service: 'productpage' }, {
    subject: 'edge productpage-v1 -> reviews.bookinfo',
    namespace: 'bookinfo',
    onsetAt: 100_000,
    detections: [
      { subject: 'edge productpage-v1 -> reviews.bookinfo' },
      { subject: 'service ratings.bookinfo' },
      { subject: 'service other.elsewhere' },
      { subject: 'edge reviews-v3 -> api.example.com' },
      { subject: 'instance reviews-v3-0.bookinfo' },
    ],
  }, 'timeout-retry', DEFAULT_SLO);
  assert.deepEqual(w.services, ['productpage', 'reviews', 'ratings']);
  assert.deepEqual(w.baseline, { startMs: 99_000 - DEFAULT_SLO.baselineMs, endMs: 99_000 });
});

test('for a security policy, refusals (401, 403) count as failed requests in the figures; otherwise they do not', () => {
  const inc = { subject: 'service reviews.bookinfo', namespace: 'bookinfo', onsetAt: 100_000 };
  const policy = watchFor({ kind: 'security-policy', namespace: 'bookinfo', service: 'reviews', resource: { kind: 'AuthorizationPolicy', namespace: 'bookinfo', name: 'deny', configVersion: 3 } }, inc, 'revert-config', DEFAULT_SLO);
  assert.equal(policy.refusalsFail, true);
  assert.equal(watchFor({ kind: 'service', namespace: 'bookinfo', service: 'reviews' }, inc, 'timeout-retry', DEFAULT_SLO).refusalsFail, undefined);
});
