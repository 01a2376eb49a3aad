import type { Detection } from '../model.js';
import { ms } from '../localization/scoring.js';
import { typicalLatency } from '../signals/snapshot.js';
import { serviceSlo, trafficSubjects, windowText, type Detector } from './detector.js';

// Mean latency against the baseline: a subject fails when its mean over the window is both
// `latencyFactor` times its baseline mean and `latencyMinIncreaseMs` above it, or above its own
// SLO. The mean (the duration histogram's sum over its count) moves with every slow request,
// where a quantile from Istio's coarse buckets would jump from bound to bound.

export const latencyDetector: Detector = {
  check: 'latency',
  evaluate(s, slo): Detection[] {
    const out: Detection[] = [];
    for (const sub of trafficSubjects(s)) {
      const cur = sub.cur;
      const value = typicalLatency(cur);
      if (!cur || cur.requests < slo.minRequests || value === null) continue;
      const base = typicalLatency(sub.base);
      const own = serviceSlo(slo, sub.service).latencyMs;
      const relative = base !== null ? Math.max(base * slo.latencyFactor, base + slo.latencyMinIncreaseMs) : Infinity;
      const threshold = Math.min(own ?? Infinity, relative);
      if (!(value >= threshold)) continue;
      out.push({
        check: 'latency', subject: sub.subject, namespace: sub.namespace, value, threshold, window: windowText(slo), at: s.at,
        text: `${sub.subject}: mean latency ${ms(value)} over ${Math.round(cur.requests)} requests (baseline ${base !== null ? ms(base) : 'none'}, fails at ${ms(threshold)})`,
      });
    }
    return out;
  },
};
