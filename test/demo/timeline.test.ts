import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RankedCause } from '../../src/diagnosis/model.js';
import type { Injection } from '../../src/platform/local/chaos/types.js';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { demoExitCode, resultJson, summarizeCause, type DemoResult } from '../../src/demo/result.js';
import { actionEvent, causeEvent, detectedEvent, formatEvent, injectedEvent, restoredEvent, summaryLines } from '../../src/demo/timeline.js';

// The demo's timeline and its result, worded from records shaped as the API returns them.

const T0 = 1_800_000_000_000;

const injection: Injection = {
  id: 'c3',
  type: 'bad-version',
  target: { kind: 'service', namespace: 'bookinfo', name: 'reviews' },
  params: { version: 'v4', replicas: 1, percent: 50 },
  expectedCause: { kind: 'workload', namespace: 'bookinfo', name: 'reviews-v4', category: 'bad-version', label: 'workload reviews-v4.bookinfo (bad version)' },
  state: 'active',
  startedAt: T0 + 20_300,
  endsAt: T0 + 620_300,
  effects: {},
  revert: [],
};

const cause: RankedCause = {
  target: { kind: 'version', namespace: 'bookinfo', service: 'reviews', workload: 'reviews-v4', version: 'v4' },
  mechanism: 'errors',
  score: 0.8234,
  summary: 'version v4 of reviews answers 500',
  evidence: [{ signal: 'metric', text: 'reviews-v4 answered 100.0% of 61 requests with errors', figures: { errorRatio: 1, requests: 61 } }],
};

const action = (state: RecoveryAction['state'], extra: Partial<RecoveryAction> = {}): RecoveryAction => ({
  id: 'a1', incidentId: 'i1', position: 1, state, mode: 'auto', createdAt: T0 + 25_000,
  kind: 'shift-traffic', cause: cause.target, causeRank: 1, summary: 'route reviews away from v4',
  expectedEffect: 'errors on reviews fall below 2% within 10 s', blastRadius: { text: '50% of reviews traffic', trafficShare: 0.5 }, config: [], platform: [],
  ...extra,
});

test('each event is one stamped line, its detail indented under the text', () => {
  const lines = formatEvent(causeEvent(T0 + 24_000, cause, true), T0);
  assert.equal(lines[0], '[ +24.0s] ? cause     version v4 of reviews.bookinfo (workload reviews-v4) [errors], score 0.82 (the injected culprit)');
  assert.match(lines[1], /^ {22}metric: reviews-v4 answered 100\.0% of 61 requests with errors \[errorRatio=1, requests=61\]$/);
  assert.equal(lines[1].indexOf('metric'), lines[0].indexOf('version'), 'detail lines up with the text');
});

test('injection, detection and restoration say what happened and when', () => {
  assert.match(formatEvent(injectedEvent(injection), T0)[0], /^\[ \+20\.3s\] \u26a1 injected  bad-version \(c3, version=v4, replicas=1, percent=50\): expected root cause workload reviews-v4\.bookinfo \(bad version\)$/);
  const det = detectedEvent(T0 + 23_600, 3200, [{ check: 'error-ratio', subject: 'service reviews.bookinfo', namespace: 'bookinfo', value: 0.31, threshold: 0.02, window: '5s', at: T0 + 23_500 }]);
  assert.equal(det.text, '3.2 s after the injection: error-ratio of service reviews.bookinfo: 31.0% > 2.0% over 5s');
  assert.match(restoredEvent(T0, 9800, true).text, /^SLO restored for users 9\.8 s after the injection/);
  assert.match(restoredEvent(T0, 0, false).text, /never saw the SLO break/);
});

test('an action reads differently at each state, with its before/after figures', () => {
  const before = { at: T0, errorRatio: 0.31, p99Ms: 14, rps: 20, healthy: false };
  const after = { at: T0, errorRatio: 0, p99Ms: 9.4, rps: 20, healthy: true };
  assert.equal(actionEvent(T0, action('applying')).text, '#1 shift-traffic: route reviews away from v4 (applying)');
  assert.equal(actionEvent(T0, action('verifying', { appliedAt: T0, verifyUntil: T0 + 10_000, before })).text, '#1 shift-traffic: route reviews away from v4 applied; verifying for 10.0 s');
  const v = actionEvent(T0, action('verified', { before, after }));
  assert.equal(v.text, '#1 shift-traffic: route reviews away from v4 verified: the SLO held, action kept');
  assert.deepEqual(v.detail, ['before: errors 31.0%, p99 14 ms, 20 rps', 'after:  errors 0.0%, p99 9 ms, 20 rps']);
  assert.match(actionEvent(T0, action('rolled-back', { reason: 'errors still 30%' })).text, /did not help: rolled back \(errors still 30%\)$/);
});

const result = (over: Partial<DemoResult> = {}): DemoResult => ({
  scenario: 'bad-version',
  injected: injection.expectedCause,
  detectedMs: 3200,
  rootCause: summarizeCause(cause, true),
  actions: [{ kind: 'shift-traffic', summary: 'route reviews away from v4', state: 'verified' }],
  verified: true,
  mttrMs: 9000,
  failedRequests: 45,
  totalRequests: 620,
  ...over,
});

test('the exit code is 0 only for a verified fix of the injected culprit', () => {
  assert.equal(demoExitCode(result()), 0);
  assert.equal(demoExitCode(result({ verified: false })), 1);
  assert.equal(demoExitCode(result({ rootCause: summarizeCause(cause, false) })), 1);
  assert.equal(demoExitCode(result({ rootCause: null })), 1);
});

test('the JSON result has exactly the documented fields, in order', () => {
  const json = JSON.parse(resultJson({ ...result(), extra: 1 } as DemoResult));
  assert.deepEqual(Object.keys(json), ['scenario', 'injected', 'detectedMs', 'rootCause', 'actions', 'verified', 'mttrMs', 'failedRequests', 'totalRequests']);
  assert.equal(json.rootCause.label, 'version v4 of reviews.bookinfo (workload reviews-v4)');
  assert.equal(json.rootCause.score, 0.823);
});

test('the summary for people carries the same figures', () => {
  const lines = summaryLines(result());
  assert.equal(lines[0], 'scenario bad-version: recovered and verified');
  assert.ok(lines.includes('  root cause:  version v4 of reviews.bookinfo (workload reviews-v4) (matches)'));
  assert.ok(lines.includes('  SLO back:    9.0 s after the injection'));
  assert.ok(lines.includes('  requests:    45 of 620 failed since the injection'));
  assert.match(summaryLines(result({ verified: false, mttrMs: null, detectedMs: null }))[0], /NOT verified/);
});
