// When users' requests meet the SLO again, from the load generator's own record (what users
// saw, not what the mesh reports). Requests are counted in 1 s buckets by the second they were
// sent; a window of W seconds holds when at most (1 - minSuccess) of its requests failed, so a
// single stray failure among a hundred does not count as an outage. The SLO is restored at the
// start of the second after the last window (starting after the injection) that did not hold,
// provided `holdS` seconds of complete buckets follow it: a fix that holds for a moment and
// fails again is not a restoration. Resolution: one second.

export interface Bucket {
  total: number;
  failed: number;
  /** Requests sent in this second still waiting for an answer. */
  pending: number;
}

export interface SloSpec {
  windowS: number;
  /** Share of requests that must succeed in a window, 0..1. */
  minSuccess: number;
}

export const USER_SLO: SloSpec = { windowS: 5, minSuccess: 0.99 };

export interface Restoration {
  /** Whether any window after the injection failed. */
  broken: boolean;
  /** Bucket index from which every window holds; null while not (yet) known. */
  restoredIndex: number | null;
  /** The last index whose bucket and every one before it are complete (-1: none). */
  completeUpTo: number;
}

/** The last bucket index up to which every bucket is complete, before `now` (the current second is never complete). */
export function completeUpTo(buckets: readonly Bucket[], nowIndex: number): number {
  let i = -1;
  while (i + 1 < buckets.length && i + 1 < nowIndex && buckets[i + 1].pending === 0) i++;
  return i;
}

/** Whether the window of buckets [start, end] holds (an empty window holds). */
export function windowHolds(buckets: readonly Bucket[], start: number, end: number, spec: SloSpec): boolean {
  let total = 0;
  let failed = 0;
  for (let i = Math.max(0, start); i <= end && i < buckets.length; i++) {
    total += buckets[i].total;
    failed += buckets[i].failed;
  }
  return total === 0 || failed <= total * (1 - spec.minSuccess) + 1e-9;
}

export function restoration(buckets: readonly Bucket[], fromIndex: number, nowIndex: number, spec: SloSpec, holdS: number): Restoration {
  const complete = completeUpTo(buckets, nowIndex);
  let lastBad = -1;
  for (let k = fromIndex; k <= complete; k++) if (!windowHolds(buckets, k, Math.min(k + spec.windowS - 1, complete), spec)) lastBad = k;
  const broken = lastBad >= 0;
  const candidate = broken ? lastBad + 1 : fromIndex;
  // Failures in the window that starts at lastBad are at lastBad itself (the next window holds).
  return { broken, restoredIndex: complete - candidate + 1 >= holdS ? candidate : null, completeUpTo: complete };
}

/** Failed and total requests sent in buckets [from, to]. */
export function countRequests(buckets: readonly Bucket[], from: number, to: number): { failed: number; total: number } {
  let failed = 0;
  let total = 0;
  for (let i = Math.max(0, from); i <= to && i < buckets.length; i++) {
    failed += buckets[i].failed;
    total += buckets[i].total;
  }
  return { failed, total };
}
