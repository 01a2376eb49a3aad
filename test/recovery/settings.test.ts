import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/recovery/settings.js';

// recovery.yaml: a partial object merged over the defaults; anything unknown or out of range is
// refused with E_RECOVERY_SETTINGS and a sentence naming the field.

test('recovery settings: merged over the defaults, checked field by field', () => {
  assert.deepEqual(parseSettings(undefined), DEFAULT_SETTINGS);
  const s = parseSettings({ auto: true, verifyWindowMs: 6000 });
  assert.deepEqual([s.auto, s.verifyWindowMs, s.maxQuarantineShare], [true, 6000, 0.5]);
  const bad = (v: unknown, re: RegExp) => assert.throws(() => parseSettings(v), (e: any) => e.code === 'E_RECOVERY_SETTINGS' && re.test(e.message));
  bad({ verifyWindowMs: 10 }, /verifyWindowMs must be a number within 1000\.\.600000, got 10/);
  bad({ auto: 'yes' }, /auto must be true or false/);
  bad({ maxQuarantineShare: 2 }, /maxQuarantineShare must be a number within 0\.\.1/);
  bad({ quarantine: 1 }, /unknown recovery setting "quarantine"/);
  bad([1], /must be an object/);
});
