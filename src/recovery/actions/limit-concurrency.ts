import { describeTarget } from '../../diagnosis/model.js';
import type { ActionDefinition } from './action.js';
import { applyChange, destinationRulesOf, fqdn, freeName, newResource, placed, yamlOf, type ServiceRef } from './istio.js';

// An overloaded service: cap how much each caller sends it at once (DestinationRule
// connectionPool), so the excess is refused at once (503 UO, retried elsewhere) instead of
// queueing until everything times out; and eject instances that keep failing (outlierDetection).
// When the caps already in force are far tighter than these (a pool too small for the
// traffic, which is what overflows), they are raised to them: the action's aim is a pool sized
// for the service, whichever way that goes.

type Raw = Record<string, any>;

export const POOL = { maxConnections: 64, http1MaxPendingRequests: 64, http2MaxRequests: 128 };
const OUTLIER = { consecutive5xxErrors: 5, interval: '5s', baseEjectionTime: '15s', maxEjectionPercent: 50 };

export const limitConcurrency: ActionDefinition = {
  kind: 'limit-concurrency',
  treats: [{ kind: 'overload' }, { kind: 'service', mechanisms: ['overload', 'saturation'] }],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.service) return { skip: `${describeTarget(t)}: no service to size a connection pool for` };
    const s: ServiceRef = { namespace: t.namespace, service: t.service };
    const dr = destinationRulesOf(ctx, s)[0];
    const raw: Raw = dr ? placed(dr) : newResource('DestinationRule', s, freeName(ctx.resources('DestinationRule'), s, 'recovery'), { host: fqdn(s) });
    raw.spec.trafficPolicy = raw.spec.trafficPolicy ?? {};
    const cp = (raw.spec.trafficPolicy.connectionPool = raw.spec.trafficPolicy.connectionPool ?? {});
    const was = { maxConnections: cp.tcp?.maxConnections, http1MaxPendingRequests: cp.http?.http1MaxPendingRequests, http2MaxRequests: cp.http?.http2MaxRequests };
    cp.tcp = { ...(cp.tcp ?? {}), maxConnections: POOL.maxConnections };
    cp.http = { ...(cp.http ?? {}), http1MaxPendingRequests: POOL.http1MaxPendingRequests, http2MaxRequests: POOL.http2MaxRequests };
    raw.spec.trafficPolicy.outlierDetection = raw.spec.trafficPolicy.outlierDetection ?? OUTLIER;
    const raised = Object.entries(was).filter(([k, v]) => typeof v === 'number' && v < POOL[k as keyof typeof POOL]).map(([k, v]) => `${k} ${v} -> ${POOL[k as keyof typeof POOL]}`);
    const change = applyChange(raw, dr);
    return {
      kind: 'limit-concurrency',
      cause: t,
      causeRank,
      summary: raised.length
        ? `resize ${t.service}.${t.namespace}'s connection pool: ${raised.join(', ')} (the caps in force overflow)`
        : `cap concurrency to ${t.service}.${t.namespace}: ${POOL.maxConnections} connections, ${POOL.http1MaxPendingRequests} pending, ${POOL.http2MaxRequests} requests per caller; eject instances after 5 consecutive 5xx`,
      expectedEffect: raised.length ? `overflows (503 UO) to ${t.service} stop; its errors fall below the SLO within the verification window` : `${t.service} stops queueing: its latency returns within the SLO, the excess is refused fast instead of timing out`,
      blastRadius: { text: `every caller of ${t.service}.${t.namespace}: requests beyond the caps are refused (503 UO)` },
      config: [change],
      platform: [],
      yaml: yamlOf([change]),
    };
  },
};
