import type { Detection } from '../model.js';
import { pct } from '../localization/scoring.js';
import type { Features } from '../signals/snapshot.js';
import { serviceSlo, trafficSubjects, windowText, type Detector } from './detector.js';

// Errors (5xx, no response, gRPC non-OK) and client errors (4xx, Kiali's second tolerance: 10%
// degrades) against the baseline: a subject fails when its ratio is `errorRatioMargin` above its
// baseline ratio (or above its own SLO), with at least `minErrors` errors among at least
// `minRequests` requests in the window.

const CLIENT_ERROR_MARGIN = 0.1; // Kiali's 4xx "Degraded" line

function clientErrors(f: Features | null): number {
  if (!f) return 0;
  let n = 0;
  for (const [code, c] of Object.entries(f.codes)) if (code.startsWith('4')) n += c;
  return n;
}

export const errorRatioDetector: Detector = {
  check: 'error-ratio',
  evaluate(s, slo): Detection[] {
    const out: Detection[] = [];
    for (const sub of trafficSubjects(s)) {
      const cur = sub.cur;
      if (!cur || cur.requests < slo.minRequests) continue;
      const errors = cur.errorRatio! * cur.requests;
      const base = sub.base?.errorRatio ?? 0;
      const own = serviceSlo(slo, sub.service).errorRatio;
      const threshold = Math.min(own ?? Infinity, base + slo.errorRatioMargin);
      if (errors >= slo.minErrors && cur.errorRatio! >= threshold && cur.errorRatio! > base) {
        out.push({
          check: 'error-ratio', subject: sub.subject, namespace: sub.namespace, value: cur.errorRatio!, threshold, window: windowText(slo), at: s.at,
          text: `${sub.subject}: ${pct(cur.errorRatio!)} errors over ${Math.round(cur.requests)} requests (baseline ${pct(base)}, fails at ${pct(threshold)})`,
        });
        continue;
      }
      const ce = clientErrors(cur) / cur.requests;
      const ceBase = sub.base && sub.base.requests > 0 ? clientErrors(sub.base) / sub.base.requests : 0;
      if (clientErrors(cur) >= slo.minErrors && ce >= ceBase + CLIENT_ERROR_MARGIN) {
        out.push({
          check: 'client-error-ratio', subject: sub.subject, namespace: sub.namespace, value: ce, threshold: ceBase + CLIENT_ERROR_MARGIN, window: windowText(slo), at: s.at,
          text: `${sub.subject}: ${pct(ce)} 4xx over ${Math.round(cur.requests)} requests (baseline ${pct(ceBase)})`,
        });
      }
    }
    return out;
  },
};
