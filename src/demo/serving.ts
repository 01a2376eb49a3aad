import type { LoadGenerator } from './load.js';
import { completeUpTo, type Bucket } from './slo-window.js';

// Before the baseline starts, the mesh must be serving users: a mesh that has just come up can
// fail its first requests (sidecars still getting config, certificates, probes), and a baseline
// learnt from failures would hide the fault. Serving = the last `cleanS` complete seconds had
// requests and none failed.

/** Seconds of clean traffic at the end of the complete buckets. */
export function cleanTail(buckets: readonly Bucket[], nowIndex: number): number {
  let n = 0;
  for (let i = completeUpTo(buckets, nowIndex); i >= 0 && buckets[i].total > 0 && buckets[i].failed === 0; i--) n++;
  return n;
}

/** Waits (bounded) until users are served; false when they were not within `timeoutMs`. */
export async function waitServing(load: LoadGenerator, cleanS: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!signal?.aborted) {
    if (cleanTail(load.buckets, load.indexOf(Date.now())) >= cleanS) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
