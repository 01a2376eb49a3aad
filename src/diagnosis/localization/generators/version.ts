import type { RankedCause } from '../../model.js';
import { present } from '../anomaly.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { ejectionEvidence, ownEvidence, ownMechanism, ownSummary } from '../evidence.js';
import { confidenceOrUnknown, contrast, pct, uniformity } from '../scoring.js';

// A version (a workload: one subset of a service) is to blame when its own anomaly stands out
// from the service's other versions and is shared by its instances:
//   score = severity x contrast(with the other versions) x (0.5 + 0.5 x uniformity(its instances)) x confidence
// A service with a single version is that version: the service generator answers for it.
// A version that had no traffic in the baseline window and fails now is a rollout gone wrong:
// the fact joins the evidence.

export const versionGenerator: CandidateGenerator = {
  kind: 'version',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    const windowMs = ctx.snapshot.current.endMs - ctx.snapshot.current.startMs;
    for (const sa of ctx.services.values()) {
      const workloads = [...sa.workloads.entries()].filter(([, w]) => present(w.own));
      for (const [key, { entity, own }] of workloads) {
        if (own.severity < 0.05) continue;
        const others = workloads.filter(([k]) => k !== key);
        if (others.length === 0) continue;
        const c = contrast(own.severity, others.map(([, w]) => w.own.severity));
        const instanceSeverities = [...sa.instances.values()].filter((i) => i.entity.workload === entity.workload && present(i.own)).map((i) => i.own.severity);
        const u = uniformity(instanceSeverities);
        const n = Math.max(own.errorRps * ctx.index.currentSeconds, own.latencySeverity > 0.05 ? own.requests : 0);
        const score = own.severity * c * (0.5 + 0.5 * u) * confidenceOrUnknown(n, own.severity > 0);
        if (score < 0.01) continue;
        const name = `version ${entity.version ?? '?'} (${entity.workload})`;
        const evidence = ownEvidence(own, { name, host: entity.host, selector: `destination_workload="${entity.workload}"`, windowMs });
        {
          const list = others.map(([, w]) => `${w.entity.version ?? w.entity.workload} ${pct(w.own.errorRatio)} errors, +${Math.round(w.own.addedMs)} ms`).join('; ');
          evidence.push({ signal: 'metric', text: `the other versions of ${entity.service} are fine by comparison: ${list}`, figures: { otherVersions: others.length, contrast: c } });
        }
        evidence.push(...ejectionEvidence(ctx.snapshot, entity.namespace, [...sa.instances.values()].filter((i) => i.entity.workload === entity.workload).map((i) => i.entity.instance!)));
        const isNew = !(entity.baseline.destination?.rps ?? 0) && !(entity.baseline.source?.rps ?? 0);
        if (isNew) evidence.push({ signal: 'metric', text: `${entity.workload} had no traffic in the baseline window: a version just rolled out`, figures: { baselineRps: 0, rps: own.rps } });
        out.push({
          target: { kind: 'version', namespace: entity.namespace, service: entity.service, workload: entity.workload, ...(entity.version && { version: entity.version }) },
          mechanism: ownMechanism(own),
          score,
          summary: `${isNew ? 'new ' : ''}version ${entity.version ?? entity.workload} of ${entity.service}.${entity.namespace}: ${ownSummary(own)}`,
          evidence,
        });
      }
    }
    return out;
  },
};
