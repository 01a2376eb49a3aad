import type { PlanContext } from './actions/action.js';
import { instancesOfService, namesService, serving } from './actions/istio.js';
import { unhealthyVersion, versionOfSubset } from './actions/subsets.js';
import type { PlannedAction } from './model.js';

// The safety limits a plan passes before anything runs (the rate limit is checked when an
// action is about to be applied: executor.ts). A limit that refuses an action says why; the
// action is recorded `rejected` with that reason and the plan goes on without it.
//
// - never quarantine more than `maxQuarantineShare` of a service's instances;
// - keep at least `minHealthyShare` of a service's instances serving (ready, not quarantined);
// - never route traffic onto an unhealthy subset (no serving instance, failing, or blamed).

type Raw = Record<string, any>;

export function refusal(a: PlannedAction, ctx: PlanContext): string | undefined {
  for (const op of a.platform) {
    if (op.op !== 'quarantine') continue;
    const own = ctx.instances().find((i) => i.namespace === op.namespace && i.name === op.instance);
    const service = a.cause.service ?? own?.labels.app;
    if (!service) continue;
    const all = instancesOfService(ctx, { namespace: op.namespace, service });
    if (all.length === 0) continue;
    // A restart's quarantine lasts until the instance is ready again: only the serving share counts for it.
    if (a.kind !== 'restart-instance') {
      const held = all.filter((i) => ctx.quarantined(i.namespace, i.name) || i.name === op.instance).length;
      if (held / all.length > ctx.settings.maxQuarantineShare) {
        return `would quarantine ${held} of ${all.length} instances of ${service} (limit ${Math.round(ctx.settings.maxQuarantineShare * 100)}%)`;
      }
    }
    const left = all.filter((i) => i.name !== op.instance && serving(ctx, i)).length;
    const servingNow = all.filter((i) => serving(ctx, i)).length;
    if (left < servingNow && left / all.length < ctx.settings.minHealthyShare) {
      return `would leave ${left} of ${all.length} instances of ${service} serving (minimum ${Math.round(ctx.settings.minHealthyShare * 100)}%)`;
    }
  }
  for (const c of a.config) {
    if (c.kind !== 'VirtualService' || c.op !== 'apply' || !a.cause.service) continue;
    const s = { namespace: a.cause.namespace, service: a.cause.service };
    // Subsets as the DestinationRules will be once the action's own changes are in.
    const drs = [...a.config.filter((x) => x.kind === 'DestinationRule' && x.raw).map((x) => ({ raw: x.raw as Raw })), ...ctx.resources('DestinationRule')];
    for (const http of ((c.raw as Raw | undefined)?.spec?.http ?? []) as Raw[]) {
      const dests = (http.route ?? []) as Raw[];
      for (const d of dests) {
        if (!namesService(d?.destination?.host, c.namespace, s) || !d.destination.subset) continue;
        if (dests.length > 1 && !(Number(d.weight ?? 0) > 0)) continue;
        const version = versionOfSubset(drs, d.destination.subset);
        if (!version) continue;
        const why = unhealthyVersion(ctx, s, version);
        if (why) return `would send traffic to subset ${d.destination.subset} of ${s.service}, which is unhealthy: ${why}`;
      }
    }
  }
  return undefined;
}
