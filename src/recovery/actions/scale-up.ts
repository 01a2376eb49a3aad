import { describeTarget } from '../../diagnosis/model.js';
import type { ActionDefinition } from './action.js';
import { instancesOfService, serving } from './istio.js';

// An overloaded (or CPU-saturated) service: start more instances of its workload (the one with
// the most serving instances: the healthy version). Rolled back by stopping exactly the
// instances it started.

export const scaleUp: ActionDefinition = {
  kind: 'scale-up',
  treats: [{ kind: 'overload' }, { kind: 'service', mechanisms: ['overload', 'saturation'] }],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.service) return { skip: `${describeTarget(t)}: no service to scale` };
    const own = instancesOfService(ctx, { namespace: t.namespace, service: t.service });
    const byWorkload = new Map<string, number>();
    for (const i of own) if (serving(ctx, i)) byWorkload.set(i.workload, (byWorkload.get(i.workload) ?? 0) + 1);
    const workload = [...byWorkload].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    if (!workload) return { skip: `${t.service}.${t.namespace} has no serving instance to copy` };
    const add = ctx.settings.scaleUpBy;
    return {
      kind: 'scale-up',
      cause: t,
      causeRank,
      summary: `start ${add} more instance(s) of ${workload}.${t.namespace} (${own.length} now)`,
      expectedEffect: `${t.service}'s load spreads over ${own.length + add} instances; its latency and overflows fall back within the SLO`,
      blastRadius: { text: `${t.service}.${t.namespace} gains ${add} instance(s); nothing is taken away` , instances: add },
      config: [],
      platform: [{ op: 'scale', namespace: t.namespace, workload, add }],
    };
  },
};
