import { describeTarget } from '../../diagnosis/model.js';
import type { ActionDefinition } from './action.js';
import { instancesOfService, pct } from './istio.js';

// An instance that answers with errors or slowly while its peers do not: take it out of every
// load-balancing set (the control plane sends it as unhealthy). It keeps running, so it can be
// looked at; the policy lifts the quarantine later (docs/recovery.md). Also the fallback for a
// crashed or hung instance whose restart did not help. The planner's safety limits (share of the
// service quarantined, minimum serving share) apply.

export const quarantineInstance: ActionDefinition = {
  kind: 'quarantine-instance',
  treats: [{ kind: 'instance', mechanisms: ['errors', 'latency', 'timeout', 'crash', 'hang', 'injected-fault', 'network'] }],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.instance) return { skip: `${describeTarget(t)}: the cause names no instance` };
    if (ctx.quarantined(t.namespace, t.instance)) return { skip: `instance ${t.instance}.${t.namespace} is already quarantined` };
    const own = ctx.instances().find((i) => i.namespace === t.namespace && i.name === t.instance);
    const service = t.service ?? own?.labels.app;
    const peers = service ? instancesOfService(ctx, { namespace: t.namespace, service }) : [];
    const share = peers.length ? 1 / peers.length : 1;
    return {
      kind: 'quarantine-instance',
      cause: t,
      causeRank,
      summary: `quarantine instance ${t.instance}.${t.namespace}: no traffic is sent to it until the quarantine is lifted`,
      expectedEffect: `${service ?? 'its service'}'s ${cause.mechanism === 'latency' ? 'latency returns to its baseline' : 'errors fall below the SLO'} within the verification window, its other ${Math.max(0, peers.length - 1)} instance(s) serving`,
      blastRadius: { text: `1 of ${peers.length || '?'} instance(s) of ${service ?? '?'} (${pct(share)} of its capacity) leaves load balancing`, instances: 1, trafficShare: share },
      config: [],
      platform: [{ op: 'quarantine', namespace: t.namespace, instance: t.instance }],
    };
  },
};
