import type { IncomingHttpHeaders } from 'node:http';

// The proxy's own sampling decision, taken only when the request's trace headers leave it open
// (Envoy's `mutateTracingRequestHeader`): a client trace id (`x-client-trace-id`, client
// sampling 100%) or `x-envoy-force-trace` force it; otherwise random sampling at the configured
// percentage (Istio's default: 1%), drawn not from a random generator but from the request id:
// the first 8 hex digits of `x-request-id`, modulo 10000, against the percentage in hundredths.
// Every hop that sees the same request id therefore takes the same decision, even when the
// application forwards `x-request-id` but no B3 headers. A request id that does not start with
// 8 hex digits is never randomly sampled, as in Envoy.

/** Istio's default trace sampling (meshConfig.defaultConfig.tracing.sampling). */
export const DEFAULT_SAMPLING_PERCENT = 1;

/** The percentage as Envoy stores it: hundredths of a percent, 0..10000. */
export function samplingThreshold(percent: number | undefined): number {
  const p = percent === undefined || !Number.isFinite(percent) ? DEFAULT_SAMPLING_PERCENT : percent;
  return Math.round(Math.min(100, Math.max(0, p)) * 100);
}

export function localDecision(h: IncomingHttpHeaders, threshold: number): boolean {
  if (h['x-client-trace-id'] !== undefined || h['x-envoy-force-trace'] !== undefined) return true;
  if (threshold >= 10000) return true;
  if (threshold <= 0) return false;
  const n = requestIdInteger(h['x-request-id']);
  return n >= 0 && n % 10000 < threshold;
}

/** Envoy's UUID request-id extension `getInteger`: the first 8 hex digits, or -1. */
export function requestIdInteger(rid: string | string[] | undefined): number {
  if (typeof rid !== 'string' || rid.length < 8) return -1;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const c = rid.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}
