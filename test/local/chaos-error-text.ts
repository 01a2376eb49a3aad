import assert from 'node:assert/strict';
import { ChaosError } from '../../src/platform/local/chaos/errors.js';

/** `CODE: message` of the ChaosError `fn` throws; fails the test when it throws anything else or nothing. */
export function chaosErrorText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChaosError, `not a ChaosError: ${(e as Error).message}`);
    return `${e.code}: ${e.message}`;
  }
  assert.fail('no error');
}
