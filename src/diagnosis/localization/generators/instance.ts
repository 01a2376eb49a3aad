import type { RankedCause } from '../../model.js';
import { present } from '../anomaly.js';
import type { CandidateGenerator, LocalizationContext } from '../context.js';
import { ejectionEvidence, ownEvidence, ownMechanism, ownSummary } from '../evidence.js';
import { confidenceOrUnknown, contrast } from '../scoring.js';

// An instance is to blame when it failed as a process (crashed, hung: process-failure.ts), or
// when its own errors or latency stand out from the other instances of its version and service:
//   score = severity x contrast(with every other instance of the service) x 0.9 x confidence
// App-level anomalies are proposed only for instances that share their version with others:
// a lone replica is its version (or its service), and those generators speak for it (routing
// away from a version is the more useful answer unless the process itself failed).

const APP_LEVEL_FIT = 0.9;

export const instanceGenerator: CandidateGenerator = {
  kind: 'instance',
  propose(ctx: LocalizationContext): RankedCause[] {
    const out: RankedCause[] = [];
    for (const f of ctx.processFailures.values()) {
      out.push({
        target: { kind: 'instance', namespace: f.namespace, service: f.service, workload: f.workload, instance: f.instance },
        mechanism: f.mechanism,
        score: f.severity * f.confidence,
        summary: `instance ${f.instance}.${f.namespace} ${f.mechanism === 'hang' ? 'hangs (does not answer)' : 'is down (crashed or unreachable)'}`,
        evidence: f.evidence,
      });
    }
    const windowMs = ctx.snapshot.current.endMs - ctx.snapshot.current.startMs;
    for (const sa of ctx.services.values()) {
      const insts = [...sa.instances.entries()].filter(([, i]) => present(i.own));
      for (const [key, { entity, own }] of insts) {
        if (own.severity < 0.05) continue;
        if (!insts.some(([k, p]) => k !== key && p.entity.workload === entity.workload)) continue;
        const peers = insts.filter(([k]) => k !== key).map(([, p]) => p.own.severity);
        const c = contrast(own.severity, peers);
        const n = Math.max(own.errorRps * ctx.index.currentSeconds, own.latencySeverity > 0.05 ? own.requests : 0);
        const score = own.severity * c * APP_LEVEL_FIT * confidenceOrUnknown(n, own.severity > 0);
        if (score < 0.01) continue;
        const evidence = ownEvidence(own, { name: `instance ${entity.instance}`, host: entity.host, selector: `reporter="destination",pod="${entity.instance}"`, windowMs });
        evidence.push(...ejectionEvidence(ctx.snapshot, entity.namespace, [entity.instance!]));
        if (peers.length) {
          evidence.push({
            signal: 'metric',
            text: `the other ${peers.length} instance(s) of ${entity.service} do not show it (worst severity ${peers.length ? Math.max(...peers).toFixed(2) : 0} against ${own.severity.toFixed(2)})`,
            figures: { peers: peers.length, worstPeerSeverity: Math.max(...peers), severity: own.severity },
          });
        }
        out.push({
          target: { kind: 'instance', namespace: entity.namespace, service: entity.service, workload: entity.workload, instance: entity.instance },
          mechanism: ownMechanism(own),
          score,
          summary: `instance ${entity.instance}.${entity.namespace}: ${ownSummary(own)}`,
          evidence,
        });
      }
    }
    return out;
  },
};
