import type { StoredResource } from './control-plane-client.js';
import type { TargetRef } from './types.js';

// The config changes chaos makes, as pure functions from what is in force to what to apply:
// a bad rollout (a subset for the new version and a weight shifted to it), a bad change (every
// route of a service sent to a subset or host that does not exist), a connection pool too small
// for the traffic. An existing VirtualService or DestinationRule of the service is changed (as
// a person's bad change would); when there is none, one is created.

type Raw = Record<string, any>;

export const fqdnOf = (svc: TargetRef) => `${svc.name}.${svc.namespace}.svc.cluster.local`;

/** Whether `host`, written in a resource of namespace `ns`, names the service. */
export function namesService(host: unknown, ns: string, svc: TargetRef): boolean {
  if (typeof host !== 'string') return false;
  const h = host.toLowerCase();
  return h === fqdnOf(svc) || h === `${svc.name}.${svc.namespace}` || h === `${svc.name}.${svc.namespace}.svc` || (h === svc.name && ns === svc.namespace);
}

export function virtualServicesOf(all: StoredResource[], svc: TargetRef): StoredResource[] {
  return all.filter((r) => Array.isArray(r.raw.spec && (r.raw.spec as Raw).hosts) && ((r.raw.spec as Raw).hosts as unknown[]).some((h) => namesService(h, r.namespace, svc)));
}

export function destinationRulesOf(all: StoredResource[], svc: TargetRef): StoredResource[] {
  return all.filter((r) => namesService((r.raw.spec as Raw | undefined)?.host, r.namespace, svc));
}

/** A name for a new resource of the service that no resource of that kind uses yet. */
export function freeName(all: StoredResource[], svc: TargetRef): string {
  const taken = new Set(all.filter((r) => r.namespace === svc.namespace).map((r) => r.name));
  return taken.has(svc.name) ? `${svc.name}-chaos` : svc.name;
}

const newResource = (kind: string, svc: TargetRef, name: string, spec: Raw): Raw => ({
  apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace: svc.namespace }, spec,
});

/** Integer weights in the given proportions that add up to `total` (largest remainder). */
export function apportion(weights: number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) if (left-- > 0) out[i]++;
  return out;
}

/** The DestinationRule with a subset per version (kept when it has one, by `version` label), plus the new one. */
export function withVersionSubsets(dr: Raw | undefined, svc: TargetRef, name: string, versions: string[]): { raw: Raw; subsetOf: Map<string, string> } {
  const raw: Raw = dr ? structuredClone(dr) : newResource('DestinationRule', svc, name, { host: fqdnOf(svc) });
  raw.spec.subsets = Array.isArray(raw.spec.subsets) ? raw.spec.subsets : [];
  const subsetOf = new Map<string, string>();
  for (const v of versions) {
    const found = (raw.spec.subsets as Raw[]).find((s) => s?.labels?.version === v && Object.keys(s.labels).length === 1);
    if (found) subsetOf.set(v, found.name);
    else {
      const subsetName = (raw.spec.subsets as Raw[]).some((s) => s.name === v) ? `${v}-chaos` : v;
      raw.spec.subsets.push({ name: subsetName, labels: { version: v } });
      subsetOf.set(v, subsetName);
    }
  }
  return { raw, subsetOf };
}

/**
 * A bad rollout: every HTTP route of the service's VirtualService keeps its destinations,
 * scaled to (100 - percent), and sends `percent` to the new subset. Without a VirtualService,
 * a new one splits the stable versions evenly and sends `percent` to the new one.
 */
export function rolloutVirtualService(vs: Raw | undefined, svc: TargetRef, name: string, stableSubsets: string[], badSubset: string, percent: number): Raw {
  if (!vs) {
    const stable = apportion(stableSubsets.map(() => 1), 100 - percent);
    const route = [...stableSubsets.map((s, i) => ({ destination: { host: svc.name, subset: s }, weight: stable[i] })), { destination: { host: svc.name, subset: badSubset }, weight: percent }];
    return newResource('VirtualService', svc, name, { hosts: [svc.name], http: [{ route: route.filter((r) => r.weight > 0) }] });
  }
  const raw = structuredClone(vs);
  for (const http of (raw.spec.http ?? []) as Raw[]) {
    const dests = (http.route ?? []) as Raw[];
    const own = dests.filter((d) => namesService(d?.destination?.host, raw.metadata.namespace ?? svc.namespace, svc));
    if (own.length === 0) continue;
    const host = own[0].destination.host;
    const scaled = apportion(dests.map((d) => (dests.length === 1 ? 100 : Number(d.weight ?? 0))), 100 - percent);
    http.route = [...dests.map((d, i) => ({ ...d, weight: scaled[i] })).filter((d) => d.weight > 0), { destination: { host, subset: badSubset }, weight: percent }];
  }
  return raw;
}

/** A bad change: every HTTP route of the service sent to a subset or host that does not exist. */
export function brokenVirtualService(vs: Raw | undefined, svc: TargetRef, name: string, broken: { subset?: string; host?: string }): Raw {
  const destination = (host: string) => (broken.host ? { host: broken.host } : { host, subset: broken.subset });
  if (!vs) return newResource('VirtualService', svc, name, { hosts: [svc.name], http: [{ route: [{ destination: destination(svc.name) }] }] });
  const raw = structuredClone(vs);
  for (const http of (raw.spec.http ?? []) as Raw[]) {
    const own = ((http.route ?? []) as Raw[]).find((d) => namesService(d?.destination?.host, raw.metadata.namespace ?? svc.namespace, svc));
    if (own) http.route = [{ destination: { ...destination(own.destination.host), ...(own.destination.port && { port: own.destination.port }) } }];
  }
  return raw;
}

/** A connection pool far too small for the service's traffic: requests beyond it overflow (503 UO). */
export function tinyPoolDestinationRule(dr: Raw | undefined, svc: TargetRef, name: string, pool: { maxConnections: number; maxPending: number; maxRequests: number }): Raw {
  const raw: Raw = dr ? structuredClone(dr) : newResource('DestinationRule', svc, name, { host: fqdnOf(svc) });
  raw.spec.trafficPolicy = raw.spec.trafficPolicy ?? {};
  const cp = (raw.spec.trafficPolicy.connectionPool = raw.spec.trafficPolicy.connectionPool ?? {});
  cp.tcp = { ...(cp.tcp ?? {}), maxConnections: pool.maxConnections };
  cp.http = { ...(cp.http ?? {}), http1MaxPendingRequests: pool.maxPending, http2MaxRequests: pool.maxRequests };
  return raw;
}
