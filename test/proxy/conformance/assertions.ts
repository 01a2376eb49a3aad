import assert from 'node:assert/strict';
import type { Done, ProxyResponse } from '../helpers.js';

// What rows assert about an outcome: the reply the client got, and how its stream ended as
// telemetry sees it (recorded by the fixture's recorder filter): status, flag and details.

/** A response and how its stream ended. */
export interface Outcome {
  res: ProxyResponse;
  done: Done;
}

/** A reply the proxy made itself: status, flag header, `server: meshmedic`, and the flag and details telemetry records. */
export function assertLocalReply(sent: Outcome, want: { status: number; flag: string; details: string; body?: string }): void {
  const { res, done } = sent;
  assert.equal(res.status, want.status, res.body);
  assert.equal(res.flag, want.flag, 'x-meshmedic-flags');
  assert.equal(res.headers.server, 'meshmedic');
  if (want.body !== undefined) assert.equal(res.body, want.body);
  assert.deepEqual([done.status, done.flag, done.details], [want.status, want.flag, want.details]);
}

/**
 * A response that came from an upstream (`via_upstream`) with the flag telemetry records (none: `-`).
 * The flag header shows only flags the router adds to a response (URX); `header` says otherwise.
 */
export function assertProxied(sent: Outcome, want: { status: number; flag?: string; header?: string | null; upstream?: string }): void {
  const { res, done } = sent;
  const flag = want.flag ?? '-';
  const header = want.header !== undefined ? want.header ?? undefined : flag === '-' ? undefined : flag;
  assert.equal(res.status, want.status, res.body);
  assert.equal(res.flag, header, 'x-meshmedic-flags');
  if (want.upstream !== undefined) assert.equal(res.headers['x-upstream-name'], want.upstream);
  assert.deepEqual([done.status, done.flag, done.details], [want.status, flag, 'via_upstream']);
}

/** Yields to the event loop until `cond` holds: waits for an event that has no callback of its own. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}
