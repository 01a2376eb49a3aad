import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RankedCause } from '../../src/diagnosis/model.js';
import type { RecoveryAction } from '../../src/recovery/model.js';
import { actedOn } from '../../src/demo/run-scenario.js';

// The demo reports the cause whose action was verified, else the top cause recovery acted on,
// not the ranking its own action produced.

const cause = (instance: string): RankedCause => ({ target: { kind: 'instance', namespace: 'bookinfo', instance }, score: 0.9, summary: instance, evidence: [] });
const applied = (at?: number) => ({ appliedAt: at }) as RecoveryAction;
const verified = (instance: string, at: number) => ({ appliedAt: at, state: 'verified', cause: cause(instance).target }) as RecoveryAction;

test('the last top cause seen before the first action was applied', () => {
  const tops = [{ at: 100, cause: cause('a') }, { at: 200, cause: cause('b') }, { at: 400, cause: cause('after-the-action') }];
  assert.equal(actedOn(tops, [applied(350), applied(300)])?.summary, 'b');
});

test('no applied action: the latest top cause; nothing seen: none', () => {
  const tops = [{ at: 100, cause: cause('a') }, { at: 200, cause: cause('b') }];
  assert.equal(actedOn(tops, [applied(undefined)])?.summary, 'b');
  assert.equal(actedOn([], [applied(1)]), undefined);
});

test('the cause of the verified action comes first, from the tops seen or the latest ranking', () => {
  const tops = [{ at: 100, cause: cause('first-guess') }, { at: 200, cause: cause('real') }];
  assert.equal(actedOn(tops, [applied(150), verified('real', 300)])?.summary, 'real');
  assert.equal(actedOn(tops, [applied(150), verified('ranked-lower', 300)], [cause('real'), cause('ranked-lower')])?.summary, 'ranked-lower');
  assert.equal(actedOn(tops, [applied(150), verified('unknown', 300)])?.summary, 'first-guess', 'a verified cause not ranked: the one acted on first');
});
