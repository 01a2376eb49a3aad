// Time is injected (DESIGN.md, invariant 6): backoff, and later timeouts and ejections, read
// this interface so tests drive them without sleeping.

export type TimerHandle = unknown;

export interface Clock {
  now(): number; // ms
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A source of uniform numbers in [0, 1): injected so weights and random LB are deterministic in tests. */
export { seededRandom, type RandomSource } from '../util/seeded-random.js';
