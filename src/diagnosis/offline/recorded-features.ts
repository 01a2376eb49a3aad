import type { Features } from '../signals/snapshot.js';

// Recorded series carry fewer figures than Istio's histograms: a rate, a few latency
// quantiles, sometimes a success ratio. `Features` is what the localizer reads; its fields
// that the recording cannot fill stay empty (no codes, no flags, errorRatio null, meanMs
// null: a quantile is not a mean), and `recorded` keeps every figure the files have, null
// where they have none, so nothing is lost and nothing is made up.
//
// Two fields of Features are numbers without a null: `rps` (and `requests`) and the error
// rates. Where the recording has no rate (per-edge series, outbound calls) they are 0 and
// `recorded.rps` is null; where it has no errors they are 0 and `errorRatio` is null.

export interface RecordedFigures {
  /** Requests per second, when the recording has a rate. */
  rps: number | null;
  /** Latency quantiles in milliseconds (means of the per-minute values over the window). */
  latencyMs: { p50: number | null; p90: number | null; p95: number | null; p99: number | null };
  /** Share of successful requests, when recorded (Online Boutique's entry point). */
  successRatio: number | null;
}

export interface RecordedFeatures extends Features {
  recorded: RecordedFigures;
}

export const NO_LATENCY: RecordedFigures['latencyMs'] = { p50: null, p90: null, p95: null, p99: null };

/** Features from recorded figures; null when the window has none of them. */
export function recordedFeatures(r: RecordedFigures, windowSeconds: number): RecordedFeatures | null {
  const q = r.latencyMs;
  const anything = r.rps !== null || r.successRatio !== null || Object.values(q).some((v) => v !== null);
  if (!anything) return null;
  const rps = r.rps ?? 0;
  const errorRatio = r.successRatio === null ? null : Math.max(0, 1 - r.successRatio);
  // Recorded failures carry no response flags: the proxies' own replies cannot be told apart, so all count as the application's.
  const errorRps = errorRatio === null ? 0 : rps * errorRatio;
  return {
    rps,
    requests: rps * windowSeconds,
    errorRps,
    errorRatio: r.rps !== null && r.rps > 0 ? errorRatio : null,
    appErrorRps: errorRps,
    codes: {},
    flags: {},
    // The median when recorded, with whatever tail quantiles there are (an edge's series has the
    // median only: `{p50, p95: null, p99: null}` still localizes a slow edge). Tail quantiles
    // alone (a pod's P90/P95/P99) stay out: the localizer subtracts a caller's latency from its
    // callees' along the chain, which holds for means and medians of the bulk, not for tails
    // (a p95 of a caller is no sum of its callees' p95s). They are kept in `recorded`.
    latency: q.p50 !== null ? { p50: q.p50, p95: q.p95, p99: q.p99 } : null,
    meanMs: null,
    recorded: r,
  };
}
