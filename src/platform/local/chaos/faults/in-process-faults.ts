import { ChaosError } from '../errors.js';
import { instancesOf } from '../targets.js';
import type { ApplyContext, ApplyResult } from './context.js';

// latency, error-rate, cpu-burn: faults inside the application of every instance the target
// covers (a service: all its instances; a workload: those of one version; an instance), sent
// over each application's fault control channel (workload/control-server.ts).
//
// network-delay: requests held in sidecars before they leave (proxy/chaos/network-faults.ts):
// for an edge SOURCE->DEST, in the sidecars of the source's instances, for requests to DEST;
// for an instance, in its own sidecar, for everything it sends (its network is slow).

export async function applicationFault(ctx: ApplyContext): Promise<ApplyResult> {
  if (ctx.target.kind === 'edge') throw new ChaosError('E_CHAOS_TARGET', `${ctx.type} takes a service, workload or instance`);
  const ids = instancesOf(ctx.target, ctx.mesh).map((i) => i.id);
  if (ids.length === 0) throw new ChaosError('E_CHAOS_TARGET', `${ctx.target.kind} ${ctx.target.name} has no running instance`);
  ctx.effects.instances = ids;
  ctx.revert.push({ op: 'app-faults', instances: ids });
  await ctx.pushFaults(ids, { app: true });
  return undefined;
}

export async function networkDelay(ctx: ApplyContext): Promise<ApplyResult> {
  const t = ctx.target;
  const sources = t.kind === 'edge' ? instancesOf(t.source, ctx.mesh) : t.kind === 'instance' ? instancesOf(t, ctx.mesh) : [];
  if (sources.length === 0) throw new ChaosError('E_CHAOS_TARGET', 'network-delay takes an edge (SOURCE->DEST) or an instance');
  const ids = sources.map((i) => i.id);
  ctx.effects.sidecars = ids;
  ctx.revert.push({ op: 'network-faults', instances: ids });
  await ctx.pushFaults(ids, { sidecar: true });
  return undefined;
}
