import type { Evidence } from '../model.js';
import type { SignalSnapshot } from '../signals/snapshot.js';
import { errorRatioQuery, meanLatencyQuery } from '../signals/queries.js';
import type { OwnAnomaly } from './anomaly.js';
import { ms, pct, rps } from './scoring.js';

// Evidence sentences for a component's own anomaly: the figures its sidecars reported, what its
// calls explain, and the PromQL to check them.

export interface Scope {
  /** `reviews-v2-0`, `workload reviews-v2`, `service reviews`: how the sentence names it. */
  name: string;
  host: string;
  /** Extra matchers narrowing the query to the component (`destination_workload="reviews-v2"`). */
  selector: string;
  windowMs: number;
}

export function ownEvidence(own: OwnAnomaly, scope: Scope): Evidence[] {
  const out: Evidence[] = [];
  if (own.errorRatio > 0) {
    const explained = own.explained.errorRps > 0 ? `; its own calls failed ${rps(own.explained.errorRps)} more than before, which explains the rest` : '; its own calls did not fail more than before';
    out.push({
      signal: 'metric',
      text: `${scope.name} answered ${pct(own.inboundErrorRatio)} of ${Math.round(own.requests)} requests with errors above its baseline${explained}: ${pct(own.errorRatio)} are its own`,
      figures: { errorRatio: own.errorRatio, inboundErrorRatio: own.inboundErrorRatio, requests: own.requests, explainedErrorRps: own.explained.errorRps },
      query: errorRatioQuery(scope.host, 'destination', scope.windowMs, scope.selector),
    });
  }
  if (own.addedMs > 0 && own.latencySeverity > 0.05) {
    const base = own.baselineMs !== null ? `${ms(own.baselineMs)} before` : 'no baseline';
    const explained = own.explained.addedMs > 0 ? `, of which its calls account for ${ms(own.explained.addedMs)}` : ', none of it in its calls';
    out.push({
      signal: 'metric',
      text: `${scope.name}'s mean latency rose by ${ms(own.inboundAddedMs)} (${base})${explained}: ${ms(own.addedMs)} is its own`,
      figures: { addedMs: own.addedMs, inboundAddedMs: own.inboundAddedMs, explainedMs: own.explained.addedMs, ...(own.baselineMs !== null && { baselineMs: own.baselineMs }) },
      query: meanLatencyQuery(scope.host, 'destination', scope.windowMs, scope.selector),
    });
  }
  if (own.saturationSeverity > 0.05) {
    out.push({
      signal: 'metric',
      text: `${scope.name}'s CPU use rose by ${own.cpuAddedPct.toFixed(1)} points${own.baselineCpuPct !== null ? ` (${own.baselineCpuPct.toFixed(1)}% before)` : ''}`,
      figures: { cpuAddedPct: own.cpuAddedPct, ...(own.baselineCpuPct !== null && { baselineCpuPct: own.baselineCpuPct }) },
    });
  }
  return out;
}

/** `errors`, `latency` or `saturation`, whichever weighs most in the own anomaly. */
export function ownMechanism(own: OwnAnomaly): 'errors' | 'latency' | 'saturation' {
  if (own.saturationSeverity > own.errorSeverity && own.saturationSeverity > own.latencySeverity) return 'saturation';
  return own.errorSeverity >= own.latencySeverity ? 'errors' : 'latency';
}

export function ownSummary(own: OwnAnomaly): string {
  const parts: string[] = [];
  if (own.errorSeverity > 0.05) parts.push(`${pct(own.errorRatio)} errors of its own`);
  if (own.latencySeverity > 0.05) parts.push(`+${ms(own.addedMs)} latency of its own`);
  if (own.saturationSeverity > 0.05) parts.push(`CPU +${own.cpuAddedPct.toFixed(1)} points`);
  return parts.join(' and ') || 'anomalous';
}

/** Callers' sidecars ejected some instance behind `host` as an outlier during the anomaly. */
export function ejectedDuringAnomaly(s: SignalSnapshot, host: string): boolean {
  return s.outlierEvents.some((o) => o.kind === 'eject' && o.host === host && o.at >= s.baseline.endMs);
}

/** Outlier ejections of some instances during the anomaly: callers' sidecars saw them fail in a row. */
export function ejectionEvidence(s: SignalSnapshot, namespace: string, instances: readonly string[]): Evidence[] {
  const ej = s.outlierEvents.filter((e) => e.kind === 'eject' && e.namespace === namespace && instances.includes(e.instance) && e.at >= s.baseline.endMs);
  if (ej.length === 0) return [];
  const names = [...new Set(ej.map((e) => e.instance))];
  return [{
    signal: 'outlier',
    text: `callers' sidecars ejected ${names.join(', ')} as outlier(s) ${ej.length} time(s) (${ej[0].reason}): they answered errors in a row`,
    figures: { ejections: ej.length, firstMs: ej[0].at },
  }];
}
