import { describeTarget } from '../../diagnosis/model.js';
import type { ConfigChange } from '../model.js';
import type { ActionDefinition } from './action.js';
import { applyChange, destinationRulesOf, fqdn, freeName, namesService, newResource, pct, placed, virtualServicesOf, yamlOf, type ServiceRef } from './istio.js';
import { unhealthyVersion, versionOfSubset, versionsOf, withVersionSubsets } from './subsets.js';

// A bad version (a rollout gone wrong): send its share of traffic to the versions that are
// healthy, by VirtualService weights, i.e. roll the rollout back. Every HTTP route of the
// service keeps its other destinations; those to the bad version (or to the service without a
// subset, which includes it) become routes to the healthy subsets, in their current proportions
// (evenly when they had none). The DestinationRule gets a subset per version when it lacks one.
// Never onto an unhealthy version: the planner's safety check refuses that.

type Raw = Record<string, any>;

export const shiftTraffic: ActionDefinition = {
  kind: 'shift-traffic',
  treats: [{ kind: 'version', mechanisms: ['errors', 'latency', 'crash', 'hang', 'timeout', 'saturation'] }],
  plan(cause, causeRank, ctx) {
    const t = cause.target;
    if (!t.service || !t.version) return { skip: `${describeTarget(t)}: the cause names no service version` };
    const s: ServiceRef = { namespace: t.namespace, service: t.service };
    const bad = t.version;
    const versions = versionsOf(ctx, s);
    const others = versions.filter((v) => v !== bad);
    if (others.length === 0) return { skip: `${t.service}.${t.namespace} runs no version besides ${bad}: there is nowhere to shift its traffic` };
    const healthy = others.filter((v) => !unhealthyVersion(ctx, s, v));
    // With no healthy version, the route is still written onto the others; the safety check refuses it with the reason.
    const targets = healthy.length ? healthy : others;
    const drs = destinationRulesOf(ctx, s);
    const dr = drs[0];
    const subsets = withVersionSubsets(ctx, s, dr && placed(dr), versions);
    const changes: ConfigChange[] = [];
    let drRaw = subsets.raw;
    if (!drRaw) drRaw = newResource('DestinationRule', s, freeName(ctx.resources('DestinationRule'), s, 'recovery'), { host: fqdn(s), subsets: versions.map((v) => ({ name: subsets.subsetOf.get(v), labels: { version: v } })) });
    if (!dr || subsets.changed) changes.push(applyChange(drRaw, dr));
    const targetSubsets = targets.map((v) => subsets.subsetOf.get(v)!);
    const badSubsets = new Set([...subsets.subsetOf].filter(([v]) => v === bad).map(([, n]) => n));
    const vss = virtualServicesOf(ctx, s);
    let before = 0;
    if (vss.length === 0) {
      changes.push(applyChange(newResource('VirtualService', s, freeName(ctx.resources('VirtualService'), s, 'recovery'), { hosts: [t.service], http: [{ route: routeTo(t.service, targetSubsets, new Map()) }] }), undefined));
      before = 1 / versions.length;
    } else {
      for (const vs of vss) {
        const raw = placed(vs);
        let changed = false;
        for (const http of (raw.spec.http ?? []) as Raw[]) {
          const dests = (http.route ?? []) as Raw[];
          const own = dests.filter((d) => namesService(d?.destination?.host, raw.metadata.namespace, s));
          const toBad = own.filter((d) => !d.destination.subset || badSubsets.has(d.destination.subset) || versionOfSubset(drs, d.destination.subset) === bad);
          if (toBad.length === 0) continue;
          const total = dests.length === 1 ? 100 : dests.reduce((a, d) => a + Number(d.weight ?? 0), 0) || 100;
          before = Math.max(before, toBad.reduce((a, d) => a + (dests.length === 1 ? 100 : Number(d.weight ?? 0)), 0) / total);
          // Every destination of the service that is not a healthy target goes (the bad version, and any other unhealthy one).
          const kept = dests.filter((d) => !own.includes(d) || targetSubsets.includes(d.destination?.subset));
          const keptWeights = new Map(kept.filter((d) => targetSubsets.includes(d.destination?.subset)).map((d) => [d.destination.subset as string, Number(d.weight ?? 0)]));
          const others = kept.filter((d) => !keptWeights.has(d.destination?.subset));
          const host = own[0].destination.host as string;
          const port = own[0].destination.port;
          const ownShare = 100 - others.reduce((a, d) => a + Number(d.weight ?? 0), 0);
          http.route = [...others, ...routeTo(host, targetSubsets, keptWeights, ownShare, port)];
          if (http.route.length === 1) delete http.route[0].weight;
          changed = true;
        }
        if (changed) changes.push(applyChange(raw, vs));
      }
      if (!changes.some((c) => c.kind === 'VirtualService')) return { skip: `no route of ${t.service}.${t.namespace} sends traffic to version ${bad}` };
    }
    return {
      kind: 'shift-traffic',
      cause: t,
      causeRank,
      summary: `shift ${t.service}.${t.namespace}'s traffic from version ${bad} to ${targets.join(', ')} (VirtualService weights: a rollback)`,
      expectedEffect: `${t.service}'s errors and latency return to their baseline within the verification window; version ${bad} gets no traffic`,
      blastRadius: { text: `${pct(before)} of ${t.service}'s traffic moves from version ${bad} to ${targets.join(', ')}`, trafficShare: before },
      config: changes,
      platform: [],
      yaml: yamlOf(changes),
    };
  },
};

/** Destinations to the subsets: their current weights kept in proportion (even when none), scaled to `total`. */
function routeTo(host: string, subsets: string[], current: Map<string, number>, total = 100, port?: unknown): Raw[] {
  const w = subsets.map((s) => current.get(s) ?? 0);
  const base = w.some((x) => x > 0) ? w : subsets.map(() => 1);
  const weights = apportion(base, total);
  return subsets.map((subset, i) => ({ destination: { host, subset, ...(port !== undefined && { port }) }, weight: weights[i] })).filter((d) => d.weight > 0 || subsets.length === 1);
}

/** Integer weights in the given proportions that add up to `total` (largest remainder). */
export function apportion(weights: number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((x) => (x * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) if (left-- > 0) out[i]++;
  return out;
}
