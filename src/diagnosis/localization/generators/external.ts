import type { RankedCause } from '../../model.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { delta } from '../anomaly.js';
import { combine, confidence, errorSeverity, latencySeverity, ms, pct } from '../scoring.js';

// An external dependency (a ServiceEntry host, or any destination no sidecar of the mesh
// answers for) is to blame when its callers' sidecars see it fail or slow down: nothing is
// behind it for us to look at, so what the callers saw is all its own. Requests that found no
// route or cluster (NR, NC) never left the caller: those are routing, not the dependency.

const ROUTING_FLAGS = ['NR', 'NC'];

export const externalGenerator: CandidateGenerator = {
  kind: 'external',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const windowS = Math.round(ctx.index.currentSeconds);
    for (const x of ctx.index.externals.values()) {
      const cur = x.current.source;
      if (!cur || !(cur.requests > 0)) continue;
      const routed = Object.entries(cur.flags).filter(([f]) => ROUTING_FLAGS.some((r) => f.includes(r))).reduce((s, [, n]) => s + n, 0);
      if (routed >= cur.requests * 0.5) continue;
      const d = delta(cur, x.baseline.source);
      const errorRatio = d.errorExcessRps / d.rps;
      const severity = combine(errorSeverity(errorRatio), latencySeverity(d.addedMs, d.baseMeanMs));
      if (severity < 0.05) continue;
      const flags = Object.entries(cur.flags).map(([f, n]) => `${f} x${Math.round(n)}`).join(', ');
      const callers = ctx.index.inEdges(x.host).filter((e) => e.current.source?.rps).map((e) => e.sourceWorkload);
      const evidence: RankedCause['evidence'] = [];
      if (errorRatio > 0) {
        evidence.push({
          signal: flags ? 'flag' : 'metric',
          text: `callers (${callers.join(', ')}) got errors from ${x.host} on ${pct(errorRatio)} of ${Math.round(cur.requests)} calls above its baseline${flags ? ` (flags ${flags})` : ''}`,
          figures: { errorRatio, requests: cur.requests, ...Object.fromEntries(Object.entries(cur.flags).map(([f, n]) => [`flag_${f}`, n])) },
          query: `sum by (response_code, response_flags) (increase(istio_requests_total{reporter="source",destination_service="${x.host}"}[${windowS}s]))`,
        });
      }
      if (d.addedMs > 0 && latencySeverity(d.addedMs, d.baseMeanMs) > 0.05) {
        evidence.push({
          signal: 'metric',
          text: `calls to ${x.host} take ${ms(d.meanMs ?? 0)} on average, ${d.baseMeanMs !== null ? `${ms(d.baseMeanMs)} before` : 'no baseline'}`,
          figures: { meanMs: d.meanMs ?? 0, ...(d.baseMeanMs !== null && { baselineMeanMs: d.baseMeanMs }) },
        });
      }
      evidence.push({ signal: 'registry', text: `${x.host} is outside the mesh: no sidecar reports what it answered`, figures: {} });
      out.push({
        target: { kind: 'external', namespace: ctx.index.inEdges(x.host)[0]?.sourceNamespace ?? '', host: x.host },
        mechanism: 'outage',
        score: severity * confidence(Math.max(d.errorExcessRps * ctx.index.currentSeconds, d.requests)),
        summary: `external dependency ${x.host} ${errorRatio > 0 ? 'fails' : 'is slow'}`,
        evidence,
      });
    }
    return out;
  },
};
