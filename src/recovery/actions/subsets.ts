import type { PlanContext } from './action.js';
import { destinationRulesOf, instancesOfService, serving, type ServiceRef } from './istio.js';

// Versions and subsets of a service, and which of them are healthy: shift-traffic routes onto
// the healthy ones only, and the planner's safety check refuses any route onto another.

type Raw = Record<string, any>;

/** The version a subset selects (its `version` label), if that is what it selects. */
export function versionOfSubset(drs: ReadonlyArray<{ raw: Raw }>, subset: string): string | undefined {
  for (const dr of drs) {
    const s = ((dr.raw.spec?.subsets ?? []) as Raw[]).find((x) => x?.name === subset);
    if (s) return typeof s.labels?.version === 'string' ? s.labels.version : undefined;
  }
  return undefined;
}

/**
 * Why a version of the service must not receive traffic, or undefined when it may: no instance
 * of it serves (ready, not quarantined), its workload fails a check of the incident, or the
 * incident blames it.
 */
export function unhealthyVersion(ctx: PlanContext, s: ServiceRef, version: string): string | undefined {
  const own = instancesOfService(ctx, s).filter((i) => i.labels.version === version);
  if (own.length === 0) return `no instance of ${s.service} runs version ${version}`;
  if (!own.some((i) => serving(ctx, i))) return `no instance of ${s.service} version ${version} is ready`;
  const workloads = new Set(own.map((i) => i.workload));
  // Errors and readiness only: latency moves on a healthy version too when traffic shifts or the machine is busy.
  const failing = ctx.detections.find((d) => (d.check === 'error-ratio' || d.check === 'instance-health') && [...workloads].some((w) => d.subject === `workload ${w}.${s.namespace}`));
  if (failing) return `workload ${failing.subject.slice('workload '.length)} fails ${failing.check}`;
  const blamed = ctx.causes.find((c) => c.target.kind === 'version' && c.target.namespace === s.namespace && c.target.service === s.service && c.target.version === version);
  if (blamed && blamed.score >= 0.5 * (ctx.causes[0]?.score ?? 0)) return `the incident blames version ${version} (${blamed.summary})`;
  return undefined;
}

export function versionsOf(ctx: PlanContext, s: ServiceRef): string[] {
  return [...new Set(instancesOfService(ctx, s).map((i) => i.labels.version).filter((v): v is string => typeof v === 'string'))].sort();
}

/** The service's DestinationRule with a subset for each version (kept when one selects it alone), and the subset names. */
export function withVersionSubsets(ctx: PlanContext, s: ServiceRef, dr: Raw | undefined, versions: readonly string[]): { raw: Raw | undefined; changed: boolean; subsetOf: Map<string, string> } {
  const raw = dr ? structuredClone(dr) : undefined;
  const subsets: Raw[] = raw ? (raw.spec.subsets = Array.isArray(raw.spec.subsets) ? raw.spec.subsets : []) : [];
  const subsetOf = new Map<string, string>();
  let changed = false;
  for (const v of versions) {
    const found = subsets.find((x) => x?.labels?.version === v && Object.keys(x.labels).length === 1);
    if (found) subsetOf.set(v, found.name);
    else {
      const name = subsets.some((x) => x.name === v) ? `${v}-recovery` : v;
      subsets.push({ name, labels: { version: v } });
      subsetOf.set(v, name);
      changed = true;
    }
  }
  return { raw: raw && { ...raw, spec: { ...raw.spec, subsets } }, changed, subsetOf };
}

export { destinationRulesOf };
