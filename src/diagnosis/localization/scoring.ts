// One scale for every generator, so that causes of different kinds can be ranked together:
//
//   score = severity x fit x confidence            (each in 0..1)
//
// - severity: how bad the anomaly the cause explains is, on a common scale: an excess error
//   ratio r maps to 1 - exp(-r / 0.1) (10% extra errors, Kiali's "Failure" line, is 0.63; 30%
//   is 0.95); an added mean latency d over a baseline mean b maps to d / (d + max(b, 25 ms))
//   (doubling a 25 ms service is 0.5; +200 ms on it is 0.89); several anomalies combine as
//   independent chances (1 - product of (1 - s)).
// - fit: how specific the signals are to this kind of cause, from the table in
//   docs/diagnosis.md (a refused connection to an instance that is no longer ready fits
//   "instance crashed" fully; errors spread evenly over every version fit "service" fully and
//   "version" not at all).
// - confidence: how many requests stand behind the figures, 1 - exp(-n / 4): 4 requests give
//   0.63, 12 give 0.95, so three stray errors cannot outrank a clear pattern. Figures without a
//   count (a recording of aggregates) are worth 0.5.
// - CPU, where a platform reports it, adds a severity of the latency rule's shape: d / (d +
//   max(b, 20 points)).

export const ERROR_RATIO_SCALE = 0.1;
export const LATENCY_FLOOR_MS = 25;
export const CONFIDENCE_REQUESTS = 4;

export function errorSeverity(excessRatio: number): number {
  return excessRatio > 0 ? 1 - Math.exp(-excessRatio / ERROR_RATIO_SCALE) : 0;
}

export function latencySeverity(addedMs: number, baselineMs: number | null): number {
  if (!(addedMs > 0)) return 0;
  return addedMs / (addedMs + Math.max(baselineMs ?? 0, LATENCY_FLOOR_MS));
}

/** Added CPU use (percentage points) over a baseline: d / (d + max(b, 20)), the latency rule's shape. */
export function saturationSeverity(addedPct: number, baselinePct: number | null): number {
  if (!(addedPct > 0)) return 0;
  return addedPct / (addedPct + Math.max(baselinePct ?? 0, SATURATION_FLOOR_PCT));
}

export const SATURATION_FLOOR_PCT = 20;

export function combine(...severities: number[]): number {
  let keep = 1;
  for (const s of severities) keep *= 1 - clamp01(s);
  return 1 - keep;
}

export function confidence(requests: number): number {
  return requests > 0 ? 1 - Math.exp(-requests / CONFIDENCE_REQUESTS) : 0;
}

/** Confidence when the figures may come without a count (recorded aggregates): unknown counts are worth half. */
export function confidenceOrUnknown(requests: number, hasFigures: boolean): number {
  return requests > 0 ? confidence(requests) : hasFigures ? UNKNOWN_COUNT_CONFIDENCE : 0;
}

export const UNKNOWN_COUNT_CONFIDENCE = 0.5;

export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** How much more `x` is than the worst of its peers, 0..1: 1 when the peers are fine, 0 when one is as bad. */
export function contrast(x: number, peers: readonly number[]): number {
  if (!(x > 0)) return 0;
  const worst = peers.length ? Math.max(...peers) : 0;
  return clamp01(1 - worst / x);
}

/** How alike a set of severities is, 0..1: 1 when all are equal (or there is one), near 0 when one stands out. */
export function uniformity(values: readonly number[]): number {
  if (values.length <= 1) return 1;
  const max = Math.max(...values);
  if (!(max > 0)) return 0;
  return clamp01(Math.min(...values) / max);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Figures for people: `12.5%`, `230 ms`, `3.2 rps`. */
export const pct = (ratio: number) => `${Number((ratio * 100).toFixed(ratio * 100 >= 10 ? 1 : 2))}%`;
export const ms = (v: number) => (v >= 1000 ? `${Number((v / 1000).toFixed(2))} s` : `${Number(v.toFixed(v >= 100 ? 0 : 1))} ms`);
export const rps = (v: number) => `${Number(v.toFixed(v >= 10 ? 0 : 2))} rps`;
