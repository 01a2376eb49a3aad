import { stringify } from 'yaml';
import type { Resource } from '../../api/resource.js';
import type { WorkloadInstance } from '../../api/snapshot.js';
import type { ConfigChange } from '../model.js';
import type { PlanContext } from './action.js';

// Helpers the config actions share: finding a service's VirtualServices and DestinationRules
// (as Istio matches hosts), writing a resource as it must be re-applied, and the YAML shown by
// `recover --dry-run`.

type Raw = Record<string, any>;

export interface ServiceRef {
  namespace: string;
  service: string;
}

export const fqdn = (s: ServiceRef) => `${s.service}.${s.namespace}.svc.cluster.local`;

/** Whether `host`, written in a resource of namespace `ns`, names the service. */
export function namesService(host: unknown, ns: string, s: ServiceRef): boolean {
  if (typeof host !== 'string') return false;
  const h = host.toLowerCase();
  return h === fqdn(s) || h === `${s.service}.${s.namespace}` || h === `${s.service}.${s.namespace}.svc` || (h === s.service && ns === s.namespace);
}

const nsOf = (r: Resource) => r.metadata.namespace ?? '';

export function virtualServicesOf(ctx: PlanContext, s: ServiceRef): Resource[] {
  return ctx.resources('VirtualService').filter((r) => Array.isArray(r.raw.spec?.hosts) && (r.raw.spec.hosts as unknown[]).some((h) => namesService(h, nsOf(r), s)));
}

export function destinationRulesOf(ctx: PlanContext, s: ServiceRef): Resource[] {
  return ctx.resources('DestinationRule').filter((r) => namesService(r.raw.spec?.host, nsOf(r), s));
}

/** The object as it must be re-applied: a deep copy with its namespace written. */
export function placed(r: Resource): Raw {
  const raw = structuredClone(r.raw);
  raw.metadata = { ...(raw.metadata ?? {}), namespace: nsOf(r) };
  // Bookkeeping the store or a previous apply added is not part of what a person writes.
  delete raw.metadata.resourceVersion;
  delete raw.metadata.generation;
  delete raw.status;
  return raw;
}

export function newResource(kind: string, s: ServiceRef, name: string, spec: Raw): Raw {
  return { apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace: s.namespace, labels: { 'meshmedic.io/recovery': 'true' } }, spec };
}

/** A name for a new resource of the service that no resource of that kind uses yet. */
export function freeName(existing: readonly Resource[], s: ServiceRef, suffix: string): string {
  const taken = new Set(existing.filter((r) => nsOf(r) === s.namespace).map((r) => r.metadata.name));
  if (!taken.has(s.service)) return s.service;
  for (let i = 0; ; i++) if (!taken.has(`${s.service}-${suffix}${i || ''}`)) return `${s.service}-${suffix}${i || ''}`;
}

/** A change that applies `after` over what is there now (`before`, or nothing). */
export function applyChange(after: Raw, before: Resource | undefined): ConfigChange {
  return { op: 'apply', kind: after.kind, namespace: after.metadata.namespace, name: after.metadata.name, raw: after, previous: before ? placed(before) : null };
}

export function yamlOf(changes: readonly ConfigChange[]): string | undefined {
  if (changes.length === 0) return undefined;
  return changes.map((c) => (c.op === 'apply' ? stringify(c.raw) : `# delete ${c.kind} ${c.namespace}/${c.name}\n`)).join('---\n');
}

/** The service's instances (label `app`, as the local mesh and Kubernetes label them). */
export function instancesOfService(ctx: PlanContext, s: ServiceRef): WorkloadInstance[] {
  return ctx.instances().filter((i) => i.namespace === s.namespace && (i.labels.app === s.service || i.workload.startsWith(`${s.service}-`)));
}

/** Serving: ready by its probe and not quarantined. */
export function serving(ctx: PlanContext, i: WorkloadInstance): boolean {
  return i.healthy && !ctx.quarantined(i.namespace, i.name);
}

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
