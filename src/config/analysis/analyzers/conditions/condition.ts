import type { KindId } from '../../../../api/kinds.js';
import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// Istio writes what went wrong into resource status conditions (a Service that could not bind
// to its waypoint, a policy ztunnel cannot enforce, a route no Gateway accepted), where users
// rarely look. Surfaces the conditions known to mean "not working", one message each.

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

const ROUTE_NEGATIVE = { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' };

/**
 * Per kind, the condition types we understand and the status that means trouble. Other
 * condition types (set by other controllers, e.g. Argo CD) are not ours to judge.
 */
const NEGATIVE: Partial<Record<KindId, Record<string, string>>> = {
  Service: { 'istio.io/WaypointBound': 'False' },
  ServiceEntry: { 'istio.io/WaypointBound': 'False' },
  WorkloadEntry: { 'istio.io/WaypointBound': 'False' },
  AuthorizationPolicy: { ZtunnelAccepted: 'False', WaypointAccepted: 'False' },
  KubernetesGateway: ROUTE_NEGATIVE,
  HTTPRoute: ROUTE_NEGATIVE,
  GRPCRoute: ROUTE_NEGATIVE,
};

const KINDS = Object.keys(NEGATIVE) as KindId[];

/** Conditions of a resource; routes keep theirs per parent Gateway. */
function conditionsOf(r: Resource): Condition[] {
  const status = r.status;
  if (!status || typeof status !== 'object') return [];
  if (r.info.id === 'HTTPRoute' || r.info.id === 'GRPCRoute') {
    const parents = Array.isArray(status.parents) ? status.parents : [];
    return parents.flatMap((p: any) => (Array.isArray(p?.conditions) ? p.conditions : []));
  }
  return Array.isArray(status.conditions) ? status.conditions : [];
}

function isNegative(kind: KindId, c: Condition): boolean {
  const bad = c.type === undefined ? undefined : NEGATIVE[kind]?.[c.type];
  if (bad !== undefined && c.status === bad) return true;
  // A waypoint that accepted the policy only in part reports status True, but part of it is ignored.
  return kind === 'AuthorizationPolicy' && c.type === 'WaypointAccepted' && c.reason === 'PartiallyInvalid';
}

export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'Reports status conditions that controllers set to a failing state (not accepted, not programmed, ...)',
  inputs: ['Service', 'ServiceEntry', 'WorkloadEntry', 'AuthorizationPolicy', 'KubernetesGateway', 'HTTPRoute', 'GRPCRoute'],
  codes: ['IST0171'],
  analyze(ctx) {
    for (const kind of KINDS) {
      for (const r of ctx.list(kind)) {
        for (const c of conditionsOf(r)) {
          if (isNegative(kind, c)) ctx.report(newMessage('IST0171', r, [c.type ?? '', c.reason ?? '', c.message ?? '']));
        }
      }
    }
  },
};
