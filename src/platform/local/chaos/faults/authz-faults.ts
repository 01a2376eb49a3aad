import type { StoredResource } from '../control-plane-client.js';
import { ChaosError } from '../errors.js';
import type { TargetRef } from '../types.js';
import type { ApplyContext, ApplyResult } from './context.js';
import { applyChange } from './config-faults.js';

// bad-authz: a wrong AuthorizationPolicy on a service's workloads, applied through the control
// plane's apply API as a person's mistake would be (the config store versions it, diagnosis
// sees it in its timeline). The policy is always a new one (an existing policy of the service
// is left alone: the mistake is the added policy), so clearing deletes it. Two forms:
//   allow-nobody  ALLOW whose only rule allows a principal no workload has: every caller is
//                 refused (no ALLOW policy matches -> denied), as a typo in a principal does;
//   deny-all      DENY with one empty rule (`{}` matches everything).
// Either way the service's sidecars answer its callers 403 `RBAC: access denied`.

type Raw = Record<string, any>;

/** The forms of the mistake (params.ts MODES lists them for --mode). */
export type AuthzMode = 'allow-nobody' | 'deny-all';

/** The principal of `allow-nobody`: a service account no topology gives a workload. */
export const nobodyPrincipal = (svc: TargetRef) => `cluster.local/ns/${svc.namespace}/sa/meshmedic-chaos-nobody`;

/** A name no AuthorizationPolicy of the namespace uses yet: `<svc>-chaos-authz`, then `-2`, `-3`... */
export function freePolicyName(all: readonly StoredResource[], svc: TargetRef): string {
  const taken = new Set(all.filter((r) => r.namespace === svc.namespace).map((r) => r.name));
  const base = `${svc.name}-chaos-authz`;
  for (let i = 1; ; i++) if (!taken.has(i === 1 ? base : `${base}-${i}`)) return i === 1 ? base : `${base}-${i}`;
}

/** The wrong policy, selecting the service's workloads by their `app` label. */
export function wrongAuthorizationPolicy(svc: TargetRef, name: string, app: string, mode: AuthzMode): Raw {
  const rules = mode === 'deny-all' ? [{}] : [{ from: [{ source: { principals: [nobodyPrincipal(svc)] } }] }];
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: svc.namespace },
    spec: { selector: { matchLabels: { app } }, action: mode === 'deny-all' ? 'DENY' : 'ALLOW', rules },
  };
}

export async function badAuthz(ctx: ApplyContext): Promise<ApplyResult> {
  if (ctx.target.kind !== 'service') throw new ChaosError('E_CHAOS_TARGET', 'bad-authz takes a service');
  const svc = ctx.target;
  const mode = (ctx.params.mode ?? 'allow-nobody') as AuthzMode;
  // The service's workloads carry `app: <service>` unless the topology says otherwise: take it from a running instance.
  const own = ctx.deps.processes.list().find((r) => r.instance.namespace === svc.namespace && r.spec.service === svc.name);
  if (!own) throw new ChaosError('E_CHAOS_TARGET', `service ${svc.name} has no running instance`);
  const app = own.instance.labels?.app ?? svc.name;
  const policies = await ctx.deps.controlPlane().resources('AuthorizationPolicy');
  const after = wrongAuthorizationPolicy(svc, freePolicyName(policies, svc), app, mode);
  ctx.effects.service = `${svc.name}.${svc.namespace}`;
  ctx.effects.policy = { mode, action: after.spec.action, selector: after.spec.selector.matchLabels, rules: after.spec.rules };
  const version = await applyChange(ctx, [{ after }]);
  return { config: { kind: 'config', resource: { kind: 'AuthorizationPolicy', namespace: svc.namespace, name: after.metadata.name }, version } };
}
