import { KIALI_DEFAULT_TOLERANCES, type Tolerance } from './tolerances.js';

// Request health as Kiali computes it (kiali/kiali business/health_calculator.go): for each
// direction of traffic (inbound, outbound) and each protocol in it, every tolerance that applies
// to the protocol gives an error percentage (matching codes over all requests of the protocol
// in that direction) and a status; the worst status wins. Traffic that no tolerance applies to
// (TCP) gives no health, and neither does a window without requests: both are NA.

export type HealthStatus = 'Healthy' | 'Degraded' | 'Failure' | 'NA';

const PRIORITY: Record<HealthStatus, number> = { NA: 0, Healthy: 1, Degraded: 2, Failure: 3 };

/** Requests per second by protocol (`http`, `grpc`) and response code key (responseCodeKey). */
export type ResponseRates = Record<string, Record<string, number>>;

export type Direction = 'inbound' | 'outbound';

export interface HealthIndicator {
  direction?: Direction;
  protocol: string;
  /** The tolerance that decided (`5xx`, `4xx`, `gRPC non-OK`, `no response`). */
  tolerance: string;
  /** Its error percentage. */
  percent: number;
}

export interface Health {
  status: HealthStatus;
  /** One line a person can check: the figure behind a status worse than Healthy, or why NA. */
  reason?: string;
  indicator?: HealthIndicator;
}

export function worseOf(a: HealthStatus, b: HealthStatus): HealthStatus {
  return PRIORITY[b] > PRIORITY[a] ? b : a;
}

/** Kiali's applyThresholds: no errors is healthy; at or over `failure` (when set) fails; at or over `degraded` degrades. */
export function applyThresholds(percent: number, degraded: number, failure: number): HealthStatus {
  if (!(percent > 0)) return 'Healthy';
  if (failure > 0 && percent >= failure) return 'Failure';
  if (percent >= degraded) return 'Degraded';
  return 'Healthy';
}

export interface DirectedResponses {
  direction?: Direction;
  responses: ResponseRates | undefined;
}

export function requestHealth(traffic: readonly DirectedResponses[], tolerances: readonly Tolerance[] = KIALI_DEFAULT_TOLERANCES): Health {
  let worst: HealthStatus = 'NA';
  let indicator: HealthIndicator | undefined;
  let decidingTolerance: Tolerance | undefined;
  let hasTraffic = false;
  for (const { direction, responses } of traffic) {
    if (!responses) continue;
    for (const protocol of Object.keys(responses).sort()) {
      const codes = responses[protocol];
      for (const tol of tolerances) {
        if (!tol.protocol.test(protocol)) continue;
        let errors = 0;
        let total = 0;
        for (const [code, rate] of Object.entries(codes)) {
          total += rate;
          if (tol.code.test(code)) errors += rate;
        }
        if (!(total > 0)) continue;
        hasTraffic = true;
        const percent = (errors / total) * 100;
        const status = applyThresholds(percent, tol.degraded, tol.failure);
        // Kiali keeps the first indicator of the worst status; the largest share of that status
        // explains it better and decides nothing else.
        const worse = PRIORITY[status] > PRIORITY[worst] || (status === worst && status !== 'Healthy' && percent > (indicator?.percent ?? 0));
        if (worse) {
          worst = status;
          indicator = { ...(direction && { direction }), protocol, tolerance: tol.name, percent };
          decidingTolerance = tol;
        }
      }
    }
  }
  if (!hasTraffic) return { status: 'NA', reason: 'no HTTP or gRPC requests in the window' };
  if (worst === 'Healthy' || !indicator || !decidingTolerance) return { status: 'Healthy' };
  return { status: worst, indicator, reason: explain(worst, indicator, decidingTolerance) };
}

function explain(status: HealthStatus, i: HealthIndicator, tol: Tolerance): string {
  const threshold = status === 'Failure' ? `failure at >= ${tol.failure}%` : tol.degraded > 0 ? `degraded at >= ${tol.degraded}%` : 'degraded above 0%';
  const where = `${i.direction ? `${i.direction} ` : ''}${i.protocol} requests`;
  return `${tol.name} ${formatPercent(i.percent)} of ${where} (${threshold})`;
}

export function formatPercent(p: number): string {
  if (p === 0 || p >= 10) return `${Number(p.toFixed(1))}%`;
  return `${Number(p.toPrecision(2))}%`;
}
