import type { RankedCause } from '../../model.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { confidence, errorSeverity, pct, rps } from '../scoring.js';

// Overload of a service: its callers' circuit breakers overflow (UO: the DestinationRule's
// connectionPool is full), or its traffic surged and then its own latency grew. A change to the
// service's connectionPool in the window joins the evidence (the config-change generator proposes
// the change itself, with a lower fit for UO: the pool is the mechanism, overload the cause).

const SURGE = 1.5;

export const overloadGenerator: CandidateGenerator = {
  kind: 'overload',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const windowS = Math.round(ctx.index.currentSeconds);
    for (const [host, svc] of ctx.index.services) {
      const cur = svc.current.source;
      const base = svc.baseline.source;
      const evidence: RankedCause['evidence'] = [];
      let severity = 0;
      let n = 0;
      const uo = cur ? flagCount(cur.flags, 'UO') : 0;
      if (cur && uo > 0) {
        const baseShare = base && base.requests > 0 ? flagCount(base.flags, 'UO') / base.requests : 0;
        const excess = Math.max(0, uo / cur.requests - baseShare);
        severity = errorSeverity(excess);
        n = uo;
        evidence.push({
          signal: 'flag',
          text: `callers' circuit breakers refused ${Math.round(uo)} of ${Math.round(cur.requests)} requests to ${svc.service} (${pct(uo / cur.requests)}, flag UO, 503 with x-envoy-overloaded)`,
          figures: { UO: uo, requests: cur.requests, share: uo / cur.requests },
          query: `sum by (source_workload) (increase(istio_requests_total{reporter="source",destination_service="${host}",response_flags="UO"}[${windowS}s]))`,
        });
      }
      const own = ctx.services.get(host)?.service;
      const curRps = svc.current.destination?.rps ?? cur?.rps ?? 0;
      const baseRps = svc.baseline.destination?.rps ?? base?.rps ?? 0;
      if (own && baseRps > 0 && curRps >= SURGE * baseRps && own.latencySeverity > 0.1) {
        const surge = own.latencySeverity * Math.min(1, curRps / baseRps - 1);
        if (surge * 0.9 > severity) {
          severity = surge * 0.9;
          n = Math.max(n, own.requests);
        }
        evidence.push({
          signal: 'metric',
          text: `its traffic rose to ${rps(curRps)} from ${rps(baseRps)} (x${(curRps / baseRps).toFixed(1)}) and its own latency grew by ${Math.round(own.addedMs)} ms`,
          figures: { rps: curRps, baselineRps: baseRps, addedMs: own.addedMs },
        });
      }
      if (!(severity > 0.05)) continue;
      for (const c of ctx.snapshot.configChanges) {
        if (c.aspects.includes('connectionPool') && c.hosts.includes(host)) {
          evidence.push({ signal: 'config', text: `${c.resource.kind} ${c.resource.namespace}/${c.resource.name} changed its connection pool at version ${c.version}: ${c.details.filter((d) => d.includes('connectionPool')).join('; ')}`, figures: { configVersion: c.version, at: c.at } });
        }
      }
      out.push({
        target: { kind: 'overload', namespace: svc.namespace, service: svc.service },
        mechanism: 'overload',
        score: severity * confidence(n),
        summary: `service ${svc.service}.${svc.namespace} is overloaded: ${uo > 0 ? 'its callers\' connection pools overflow (UO)' : 'traffic surged and latency followed'}`,
        evidence,
      });
    }
    return out;
  },
};

function flagCount(flags: Record<string, number>, flag: string): number {
  let n = 0;
  for (const [f, c] of Object.entries(flags)) if (f.split(',').includes(flag)) n += c;
  return n;
}
