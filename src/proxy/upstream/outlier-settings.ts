import { durationMs } from '../../util/duration.js';

// DestinationRule `trafficPolicy.outlierDetection` as istiod translates it into Envoy's
// cluster outlier_detection (applyOutlierDetection), with Envoy's defaults for what Istio
// leaves unset. Only the consecutive-error detectors exist: Istio turns success-rate
// detection off (enforcing_success_rate 0) and never sets failure-percentage.
//
// - consecutive5xxErrors: set -> consecutive_5xx = n, enforced only when n > 0; unset ->
//   Envoy's default 5, enforced (100%). So 0 turns it off.
// - consecutiveGatewayErrors: set -> consecutive_gateway_failure = n, enforced when n > 0;
//   unset -> Envoy leaves it unenforced (enforcing_consecutive_gateway_failure 0): off.
// - consecutiveErrors (deprecated): older istiod mapped n > 0 to gateway errors only (5xx
//   detection off), see istio/api#617; the explicit fields above override it.
// - interval 10 s, baseEjectionTime 30 s (Envoy's defaults); max_ejection_time is Envoy's
//   default 300 s or the base when larger (Istio does not expose it).
// - maxEjectionPercent: > 0 is taken, else Envoy's 10%.
// - minHealthPercent: Envoy's healthy_panic_threshold, always set by istiod (0 = no panic).
// - splitExternalLocalOriginErrors / consecutiveLocalOriginFailures are parsed but not acted
//   on: the router reports local-origin failures as 503/504 codes (non-split mode only).

export interface OutlierSettings {
  /** Consecutive 5xx (incl. connect failures and timeouts, as 503/504) before ejection; 0 = off. */
  consecutive5xx: number;
  /** Consecutive 502/503/504 before ejection; 0 = off. */
  consecutiveGateway: number;
  intervalMs: number;
  baseEjectionMs: number;
  /** Cap of one ejection's length (Envoy max_ejection_time). */
  maxEjectionMs: number;
  maxEjectionPercent: number;
  /** Envoy's healthy_panic_threshold: below this share of non-ejected hosts the cluster is in panic (0 = never). */
  minHealthPercent: number;
  /** Istio fields the proxy reads but does not enforce (reported, never silently ignored). */
  unsupported: string[];
}

export const OUTLIER_DEFAULTS = Object.freeze({
  consecutive5xx: 5,
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
});

/** Settings from the raw Istio JSON (validated by the control plane); null when there is none. */
export function outlierSettings(raw: unknown): OutlierSettings | null {
  if (raw === undefined || raw === null || typeof raw !== 'object') return null;
  const od = raw as Record<string, unknown>;
  let consecutive5xx: number = OUTLIER_DEFAULTS.consecutive5xx;
  let consecutiveGateway = 0;
  const deprecated = count(od.consecutiveErrors);
  if (deprecated !== undefined && deprecated > 0) {
    consecutiveGateway = deprecated;
    consecutive5xx = 0;
  }
  const c5xx = count(od.consecutive5xxErrors);
  if (c5xx !== undefined) consecutive5xx = c5xx;
  const gateway = count(od.consecutiveGatewayErrors);
  if (gateway !== undefined) consecutiveGateway = gateway;
  const baseEjectionMs = positiveDuration(od.baseEjectionTime) ?? OUTLIER_DEFAULTS.baseEjectionMs;
  const maxPercent = count(od.maxEjectionPercent);
  const unsupported: string[] = [];
  if (od.splitExternalLocalOriginErrors === true || od.splitExternalLocalOriginErrors === 'true') unsupported.push('splitExternalLocalOriginErrors');
  if ((count(od.consecutiveLocalOriginFailures) ?? 0) > 0) unsupported.push('consecutiveLocalOriginFailures');
  return {
    consecutive5xx,
    consecutiveGateway,
    intervalMs: positiveDuration(od.interval) ?? OUTLIER_DEFAULTS.intervalMs,
    baseEjectionMs,
    maxEjectionMs: Math.max(OUTLIER_DEFAULTS.maxEjectionMs, baseEjectionMs),
    maxEjectionPercent: maxPercent !== undefined && maxPercent > 0 ? Math.min(100, maxPercent) : OUTLIER_DEFAULTS.maxEjectionPercent,
    minHealthPercent: Math.min(100, count(od.minHealthPercent) ?? 0),
    unsupported,
  };
}

/** A count as YAML/JSON may carry it: a number, a numeric string, or a wrapper `{ value }`; undefined when unset. */
function count(v: unknown): number | undefined {
  const raw = v !== null && typeof v === 'object' ? (v as { value?: unknown }).value : v;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) ? Math.max(0, Math.floor(n)) : undefined;
}

function positiveDuration(v: unknown): number | undefined {
  const ms = durationMs(v);
  return ms !== undefined && ms > 0 ? ms : undefined;
}
