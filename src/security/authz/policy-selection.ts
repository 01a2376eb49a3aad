import type { Resource } from '../../api/resource.js';
import type { AuthzPolicy, AuthzRule } from '../../api/snapshot.js';

// Which AuthorizationPolicies apply to a workload (Istio): in the root namespace without a
// selector, to every workload of the mesh; in the root namespace with a selector, to matching
// workloads of every namespace; elsewhere, to the workloads of their own namespace (all of them
// without a selector, the matching ones with). CUSTOM needs an external authorizer the local
// mesh does not have: reported, not enforced. `targetRef(s)` (waypoints, gateways) are reported.

export interface SelectedPolicies {
  policies: AuthzPolicy[];
  /** [origin, message] pairs for the translation notes. */
  notes: Array<[string, string]>;
}

const originOf = (r: Resource) => `AuthorizationPolicy ${r.metadata.namespace ?? ''}/${r.metadata.name}`;

function selectorOf(r: Resource): Record<string, string> | undefined {
  const m = r.spec?.selector?.matchLabels;
  return m && typeof m === 'object' && Object.keys(m).length > 0 ? (m as Record<string, string>) : undefined;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

export function selectAuthorizationPolicies(policies: readonly Resource[], w: { namespace: string; labels: Record<string, string> }, rootNamespace: string): SelectedPolicies {
  const out: AuthzPolicy[] = [];
  const notes: Array<[string, string]> = [];
  for (const r of policies) {
    const ns = r.metadata.namespace ?? '';
    if (ns !== w.namespace && ns !== rootNamespace) continue;
    if (r.spec?.targetRef || r.spec?.targetRefs) {
      notes.push([originOf(r), 'targetRef(s) attach a policy to a gateway or waypoint, which the local mesh does not have; this policy has no effect']);
      continue;
    }
    const sel = selectorOf(r);
    if (sel ? !matches(sel, w.labels) : ns !== rootNamespace && ns !== w.namespace) continue;
    const action = typeof r.spec?.action === 'string' ? r.spec.action : 'ALLOW';
    if (action === 'CUSTOM') {
      notes.push([originOf(r), 'action CUSTOM (an external authorizer) is not implemented by the local mesh; this policy is not enforced']);
      continue;
    }
    if (action !== 'ALLOW' && action !== 'DENY' && action !== 'AUDIT') continue;
    out.push({ name: r.metadata.name, namespace: ns, action, rules: Array.isArray(r.spec?.rules) ? (r.spec.rules as AuthzRule[]) : [] });
  }
  return { policies: out, notes };
}
