// A small seeded generator (mulberry32): same seed, same sequence. Used wherever randomness
// must be repeatable: weighted routing and random load balancing in tests, synthetic workloads'
// latencies and errors. Not for anything secret.

export type RandomSource = () => number; // uniform in [0, 1)

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
