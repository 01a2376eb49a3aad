import type { StoredResource } from '../control-plane-client.js';
import { brokenVirtualService, destinationRulesOf, fqdnOf, freeName, rolloutVirtualService, tinyPoolDestinationRule, virtualServicesOf, withVersionSubsets } from '../config-edits.js';
import { ChaosError } from '../errors.js';
import type { OutageMode } from '../stand-ins.js';
import type { RevertStep, TargetRef } from '../types.js';
import type { ApplyContext, ApplyResult } from './context.js';

// Faults made of configuration, applied through the control plane's apply API like any
// change (the config store versions them, diagnosis sees them in its timeline); the previous
// form of every resource touched is kept, and clearing puts it back (or deletes what was new).
// And external-outage, which breaks the stand-in of an external host.

type Raw = Record<string, any>;
type Previous = Extract<RevertStep, { op: 'restore-config' }>['previous'];

function serviceOf(ctx: ApplyContext): TargetRef {
  if (ctx.target.kind !== 'service') throw new ChaosError('E_CHAOS_TARGET', `${ctx.type} takes a service`);
  return ctx.target;
}

/** The object as it must be re-applied: with its namespace written (the store may have it from the apply's default). */
export const placed = (r: StoredResource): Raw => ({ ...r.raw, metadata: { ...(r.raw.metadata as Raw), namespace: r.namespace } });

export async function applyChange(ctx: ApplyContext, changed: Array<{ before?: StoredResource; after: Raw }>): Promise<number> {
  const previous: Previous = changed.map(({ before, after }) => ({ kind: after.kind, apiVersion: after.apiVersion, namespace: after.metadata.namespace, name: after.metadata.name, raw: before ? placed(before) : null }));
  ctx.revert.push({ op: 'restore-config', previous });
  const version = await ctx.deps.controlPlane().apply(changed.map((c) => c.after), `chaos ${ctx.id} (${ctx.type})`);
  ctx.effects.config = { version, resources: previous.map((p) => `${p.kind} ${p.namespace}/${p.name} ${p.raw ? 'changed' : 'created'}`) };
  return version;
}

export async function badVersion(ctx: ApplyContext): Promise<ApplyResult> {
  const svc = serviceOf(ctx);
  const version = ctx.params.version ?? 'chaos';
  const own = ctx.deps.processes.list().filter((r) => r.instance.namespace === svc.namespace && r.spec.service === svc.name);
  const base = own.find((r) => !r.extra);
  if (!base) throw new ChaosError('E_CHAOS_TARGET', `service ${svc.name} has no instance from the topology to copy`);
  if (own.some((r) => r.spec.version === version)) throw new ChaosError('E_CHAOS_CONFLICT', `service ${svc.name} already runs a version ${version}`);
  const stableVersions = [...new Set(own.map((r) => r.spec.version))].sort();
  const replicas = ctx.params.replicas ?? 1;
  const started: Array<{ namespace: string; name: string }> = [];
  ctx.revert.push({ op: 'remove-instances', instances: started }); // filled as they start
  for (let i = 0; i < replicas; i++) {
    const r = await ctx.deps.processes.addInstance({ base, version, index: i, errorRate: 1 });
    started.push({ namespace: r.instance.namespace, name: r.instance.name });
  }
  ctx.effects.instances = started.map((s) => `${s.name}.${s.namespace}`);
  const cp = ctx.deps.controlPlane();
  const [drs, vss] = await Promise.all([cp.resources('DestinationRule'), cp.resources('VirtualService')]);
  const dr = destinationRulesOf(drs, svc)[0];
  const { raw: newDr, subsetOf } = withVersionSubsets(dr && placed(dr), svc, freeName(drs, svc), [...stableVersions, version]);
  const stable = stableVersions.map((v) => subsetOf.get(v)!);
  const bad = subsetOf.get(version)!;
  const ownVs = virtualServicesOf(vss, svc);
  const vsChanges = ownVs.length
    ? ownVs.map((v) => ({ before: v, after: rolloutVirtualService(placed(v), svc, v.name, stable, bad, ctx.params.percent ?? 50) }))
    : [{ after: rolloutVirtualService(undefined, svc, freeName(vss, svc), stable, bad, ctx.params.percent ?? 50) }];
  await applyChange(ctx, [{ before: dr, after: newDr }, ...vsChanges]);
  return undefined;
}

export async function badConfig(ctx: ApplyContext): Promise<ApplyResult> {
  const svc = serviceOf(ctx);
  const cp = ctx.deps.controlPlane();
  const vss = await cp.resources('VirtualService');
  const existing = virtualServicesOf(vss, svc)[0];
  const broken = ctx.params.mode === 'wrong-host' ? { host: ctx.params.host || `${svc.name}-wrong.${svc.namespace}.svc.cluster.local` } : { subset: ctx.params.subset || 'missing' };
  const after = brokenVirtualService(existing && placed(existing), svc, existing?.name ?? freeName(vss, svc), broken);
  ctx.effects.service = `${svc.name}.${svc.namespace}`;
  ctx.effects.broken = broken;
  const version = await applyChange(ctx, [{ before: existing, after }]);
  return { config: { kind: 'config', resource: { kind: 'VirtualService', namespace: after.metadata.namespace, name: after.metadata.name }, version } };
}

export async function poolExhaustion(ctx: ApplyContext): Promise<ApplyResult> {
  const svc = serviceOf(ctx);
  const drs = await ctx.deps.controlPlane().resources('DestinationRule');
  const existing = destinationRulesOf(drs, svc)[0];
  const pool = { maxConnections: ctx.params.maxConnections ?? 1, maxPending: ctx.params.maxPending ?? 1, maxRequests: ctx.params.maxRequests ?? 1 };
  const after = tinyPoolDestinationRule(existing && placed(existing), svc, existing?.name ?? freeName(drs, svc), pool);
  ctx.effects.host = fqdnOf(svc);
  const version = await applyChange(ctx, [{ before: existing, after }]);
  return { config: { kind: 'config', resource: { kind: 'DestinationRule', namespace: after.metadata.namespace, name: after.metadata.name }, version } };
}

export async function externalOutage(ctx: ApplyContext): Promise<ApplyResult> {
  if (ctx.target.kind !== 'external') throw new ChaosError('E_CHAOS_TARGET', 'external-outage takes an external host');
  const mode = (ctx.params.mode ?? 'refuse') as OutageMode;
  await ctx.deps.standIns.breakHost(ctx.target.name, mode);
  ctx.revert.push({ op: 'restore-stand-in', host: ctx.target.name, mode });
  ctx.effects.standIn = ctx.deps.standIns.list().find((s) => s.host === (ctx.target as TargetRef).name);
  return undefined;
}
