import type { Latency } from '../topology/model.js';

// Seeded randomness for a workload instance: latency samples, errorRate and call probability.
// A seed per instance makes a run repeatable; the generator is mulberry32 (small, fast, enough
// for simulation, not for anything secret).

import { seededRandom, type RandomSource } from '../../../util/seeded-random.js';

export type Rng = RandomSource; // uniform in [0, 1)
export const seededRng: (seed: number) => Rng = seededRandom;

/** A standard normal sample (Box-Muller). */
function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** One duration in milliseconds, never negative, never above the distribution's cap. */
export function sampleLatency(l: Latency, rng: Rng): number {
  let ms: number;
  switch (l.distribution) {
    case 'fixed':
      return l.ms;
    case 'uniform':
      return l.minMs + (l.maxMs - l.minMs) * rng();
    case 'normal':
      ms = l.meanMs + l.stddevMs * gaussian(rng);
      break;
    case 'exponential':
      ms = -l.meanMs * Math.log(1 - rng());
      break;
    case 'lognormal':
      ms = l.medianMs * Math.exp(l.sigma * gaussian(rng));
      break;
  }
  ms = Math.max(0, ms);
  return l.capMs !== undefined ? Math.min(ms, l.capMs) : ms;
}
