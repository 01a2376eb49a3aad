import type { RankedCause } from '../../model.js';
import { present } from '../anomaly.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { ownEvidence, ownMechanism, ownSummary } from '../evidence.js';
import { confidenceOrUnknown, uniformity } from '../scoring.js';

// A whole service is to blame when its own anomaly (after what its callees explain) is spread
// over its versions and instances alike:
//   score = severity x (0.25 + 0.75 x uniformity(its versions, its instances)) x confidence
// A service whose errors sit in one version (or one instance) scores a quarter of its severity,
// and that version scores its full severity: the more specific answer wins.

export const serviceGenerator: CandidateGenerator = {
  kind: 'service',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const windowMs = ctx.snapshot.current.endMs - ctx.snapshot.current.startMs;
    for (const sa of ctx.services.values()) {
      const own = sa.service;
      if (own.severity < 0.05) continue;
      const entity = ctx.index.services.get(sa.host)!;
      const versions = [...sa.workloads.values()].filter((w) => present(w.own));
      const instances = [...sa.instances.values()].filter((i) => present(i.own));
      const u = Math.min(uniformity(versions.map((w) => w.own.severity)), uniformity(instances.map((i) => i.own.severity)));
      const n = Math.max(own.errorRps * ctx.index.currentSeconds, own.latencySeverity > 0.05 ? own.requests : 0);
      const score = own.severity * (0.25 + 0.75 * u) * confidenceOrUnknown(n, own.severity > 0);
      if (score < 0.01) continue;
      const evidence = ownEvidence(own, { name: `service ${entity.service}`, host: sa.host, selector: '', windowMs });
      if (versions.length > 1 || instances.length > 1) {
        evidence.push({ signal: 'metric', text: `its ${versions.length} version(s) and ${instances.length} instance(s) show it ${u > 0.5 ? 'alike' : 'unevenly'} (uniformity ${u.toFixed(2)})`, figures: { versions: versions.length, instances: instances.length, uniformity: u } });
      }
      const callees = ctx.index.calleesOf(sa.host);
      if (callees.length) {
        evidence.push({ signal: 'metric', text: `what ${entity.service} calls (${callees.map(short).join(', ')}) does not explain it`, figures: { callees: callees.length, explainedErrorRps: own.explained.errorRps, explainedMs: own.explained.addedMs } });
      }
      out.push({
        target: { kind: 'service', namespace: entity.namespace, service: entity.service },
        mechanism: ownMechanism(own),
        score,
        summary: `service ${entity.service}.${entity.namespace}: ${ownSummary(own)}`,
        evidence,
      });
    }
    return out;
  },
};

function short(host: string): string {
  const m = /^([^.]+)\.[^.]+\.svc\./.exec(host);
  return m ? m[1] : host;
}
