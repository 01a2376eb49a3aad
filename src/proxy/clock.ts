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
export type RandomSource = () => number;

/** A small seeded generator (mulberry32): same seed, same sequence. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
