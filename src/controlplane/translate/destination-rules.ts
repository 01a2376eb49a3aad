import type { Resource } from '../../api/resource.js';
import { friendlyName, namespaceOf } from '../../api/resource.js';
import type { MeshService } from '../services.js';
import { hostCovers, resolveHost } from './hosts.js';
import type { MeshView } from './mesh-view.js';
import type { NodeContext } from './node-context.js';
import { isVisible, specExportTo } from './visibility.js';

// Which DestinationRule governs a service for one proxy, and the traffic policy that results
// for one port and subset (istiod's SidecarScope.DestinationRule and MergeSubsetTrafficPolicy).

/** The four pieces of a TrafficPolicy that port-level settings and subsets override. */
export interface TrafficPolicy {
  loadBalancer?: any;
  connectionPool?: any;
  outlierDetection?: any;
  tls?: any;
  portLevelSettings?: any[];
}

export interface EffectiveSubset {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
  origin: string;
}

export interface EffectiveDestinationRule {
  origin: string; // `DestinationRule ns/name` of the rule whose trafficPolicy applies
  trafficPolicy?: TrafficPolicy;
  subsets: EffectiveSubset[];
}

/**
 * Lookup order, as istiod: rules in the proxy's namespace, then rules exported by the service's
 * namespace, then by the root namespace. In the first namespace that has any, the rule naming
 * the host exactly wins over wildcards (most specific first); rules with the same host in one
 * namespace are merged: subsets added in order, the first rule's trafficPolicy kept.
 */
export function destinationRuleFor(ctx: NodeContext, svc: MeshService): EffectiveDestinationRule | undefined {
  const proxyNs = ctx.node.namespace;
  const index = rulesIndex(ctx.view);
  for (const ns of unique([proxyNs, svc.namespace, ctx.view.rootNamespace])) {
    const inNs = index.get(ns);
    if (!inNs) continue;
    const usable = (r: IndexedRule) => appliesToProxy(r.dr, ctx) && isVisible(specExportTo(r.dr.spec), ns, proxyNs);
    const exact = (inNs.exact.get(svc.hostname) ?? []).filter(usable);
    if (exact.length) return merge(exact.map((r) => r.dr), ctx);
    // The most specific wildcard host covering the service; its rules merged.
    let best: string | undefined;
    for (const r of inNs.wildcards) if (hostCovers(r.host, svc.hostname) && usable(r) && (best === undefined || r.host.length > best.length)) best = r.host;
    if (best !== undefined) return merge(inNs.wildcards.filter((r) => r.host === best && usable(r)).map((r) => r.dr), ctx);
  }
  return undefined;
}

interface IndexedRule {
  dr: Resource;
  host: string; // resolved in the rule's namespace
}

interface NamespaceRules {
  exact: Map<string, IndexedRule[]>;
  wildcards: IndexedRule[];
}

/** Rules by namespace and host, built once per mesh view (every proxy asks for every service). */
const indexes = new WeakMap<MeshView, Map<string, NamespaceRules>>();

function rulesIndex(view: MeshView): Map<string, NamespaceRules> {
  let index = indexes.get(view);
  if (index) return index;
  index = new Map();
  for (const dr of view.destinationRules) {
    const ns = namespaceOf(dr);
    let inNs = index.get(ns);
    if (!inNs) index.set(ns, (inNs = { exact: new Map(), wildcards: [] }));
    const host = resolveHost(String(dr.spec?.host ?? ''), ns);
    const r = { dr, host };
    if (host.startsWith('*')) inNs.wildcards.push(r);
    else inNs.exact.set(host, [...(inNs.exact.get(host) ?? []), r]);
  }
  indexes.set(view, index);
  return index;
}

function appliesToProxy(dr: Resource, ctx: NodeContext): boolean {
  const selector = dr.spec?.workloadSelector?.matchLabels as Record<string, string> | undefined;
  if (!selector) return true;
  // A rule with a workloadSelector applies only to the selected workloads of its own namespace.
  return namespaceOf(dr) === ctx.node.namespace && Object.entries(selector).every(([k, v]) => ctx.node.labels[k] === v);
}

function merge(rules: Resource[], ctx: NodeContext): EffectiveDestinationRule {
  const first = rules[0];
  const subsets: EffectiveSubset[] = [];
  const seen = new Set<string>();
  for (const dr of rules) {
    if (dr !== first && dr.spec?.trafficPolicy) {
      ctx.notes.add(friendlyName(dr), `trafficPolicy ignored: ${friendlyName(first)} for the same host comes first and its policy applies`);
    }
    for (const s of Array.isArray(dr.spec?.subsets) ? dr.spec.subsets : []) {
      if (!s?.name || seen.has(s.name)) continue;
      seen.add(s.name);
      subsets.push({ name: s.name, labels: { ...(s.labels ?? {}) }, trafficPolicy: s.trafficPolicy, origin: friendlyName(dr) });
    }
  }
  return { origin: friendlyName(first), trafficPolicy: first.spec?.trafficPolicy, subsets };
}

const PIECES = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

/**
 * A policy's settings for one port: its `portLevelSettings` entry for the port replaces the four
 * pieces wholesale (a piece the port entry omits falls back to the default, not to the top level).
 */
export function portLevelPolicy(policy: TrafficPolicy | undefined, port: number): { policy?: TrafficPolicy; portLevel: boolean } {
  if (!policy) return { portLevel: false };
  const entry = (policy.portLevelSettings ?? []).find((p: any) => p?.port?.number === port);
  if (!entry) return { policy, portLevel: false };
  const out: TrafficPolicy = {};
  for (const k of PIECES) if (entry[k] !== undefined) out[k] = entry[k];
  return { policy: out, portLevel: true };
}

/** Istio's MergeSubsetTrafficPolicy: top level (port-level applied), overridden by the subset (its port level replacing wholesale). */
export function effectivePolicy(top: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): TrafficPolicy | undefined {
  const base = portLevelPolicy(top, port).policy;
  if (!subset) return strip(base);
  const { policy: sub, portLevel } = portLevelPolicy(subset, port);
  if (!base) return strip(sub);
  const out: TrafficPolicy = {};
  for (const k of PIECES) {
    const v = portLevel || sub?.[k] !== undefined ? sub?.[k] : base[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function strip(p: TrafficPolicy | undefined): TrafficPolicy | undefined {
  if (!p) return undefined;
  const out: TrafficPolicy = {};
  for (const k of PIECES) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
