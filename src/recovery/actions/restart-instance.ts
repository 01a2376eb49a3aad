import { describeTarget } from '../../diagnosis/model.js';
import type { ActionDefinition } from './action.js';
import { instancesOfService, pct } from './istio.js';

// A crashed, hung or CPU-starved instance: restart its application. It is quarantined first
// (a restarting process must not get traffic while it comes up, even if a probe sees it answer
// for a moment) and the quarantine is lifted once its readiness probe passes; the SLO is then
// judged over a full verification window with the instance back (executor.ts).

export const restartInstance: ActionDefinition = {
  kind: 'restart-instance',
  treats: [{ kind: 'instance', mechanisms: ['crash', 'hang', 'saturation'] }],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.instance) return { skip: `${describeTarget(t)}: the cause names no instance` };
    const own = ctx.instances().find((i) => i.namespace === t.namespace && i.name === t.instance);
    if (!own) return { skip: `instance ${t.instance}.${t.namespace} is not in the registry` };
    const service = t.service ?? own.labels.app;
    const peers = instancesOfService(ctx, { namespace: t.namespace, service });
    const share = peers.length ? 1 / peers.length : 1;
    return {
      kind: 'restart-instance',
      cause: t,
      causeRank,
      summary: `restart instance ${t.instance}.${t.namespace} (${cause.mechanism ?? 'failing'}), quarantined until it is ready again`,
      expectedEffect: `instance ${t.instance} is ready again and ${service}'s SLO holds within the verification window`,
      blastRadius: { text: `1 of ${peers.length} instance(s) of ${service} (${pct(share)} of its capacity) restarts; in-flight requests to it fail`, instances: 1, trafficShare: share },
      config: [],
      platform: [
        { op: 'quarantine', namespace: t.namespace, instance: t.instance },
        { op: 'restart', namespace: t.namespace, instance: t.instance },
      ],
    };
  },
};
