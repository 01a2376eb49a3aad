import type { FieldPath, Resource } from '../../../../api/resource.js';
import { nsName, selectorMatches } from '../../util.js';

// Helpers shared by the Istio Gateway analyzers (networking.istio.io Gateway).

export type Labels = Record<string, string>;

/** The workload selector of an Istio Gateway; an absent selector selects every pod. */
export function gatewaySelector(gw: Resource): Labels {
  return (gw.spec?.selector ?? {}) as Labels;
}

/**
 * A selector printed the way Kubernetes prints an equality selector (`a=1,b=2`, keys sorted).
 * Istio uses this string both in messages and as a map key, so the format matters.
 */
export function selectorString(selector: Labels): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

/** Parse `a=1,b=2` back into labels (pairs that are not `k=v` are ignored). */
export function parseSelectorString(s: string): Labels {
  const out: Labels = {};
  for (const pair of s.split(',')) {
    const kv = pair.split('=');
    if (kv.length === 2) out[kv[0]] = kv[1];
  }
  return out;
}

/**
 * Field path of the selector's first key (sorted), where Istio points messages about a
 * selector; undefined for an empty selector, which has no line of its own.
 */
export function selectorPath(selector: Labels): FieldPath | undefined {
  const first = Object.keys(selector).sort()[0];
  return first === undefined ? undefined : ['spec', 'selector', first];
}

/** Pods whose labels the selector matches (an empty selector matches all of them). */
export function podsSelectedBy(pods: readonly Resource[], selector: Labels): Resource[] {
  return pods.filter((p) => selectorMatches(selector, p.metadata.labels));
}

/** `namespace/name`, or just `name` when the gateway has no namespace (Istio's FullName). */
export const fullName = nsName;

export function servers(gw: Resource): any[] {
  const s = gw.spec?.servers;
  return Array.isArray(s) ? s : [];
}

export function serverHosts(server: any): string[] {
  return Array.isArray(server?.hosts) ? server.hosts.map(String) : [];
}

/** A server's port number; 0 when it has none (proto's zero value, which Istio compares too). */
export function serverPort(server: any): number {
  const n = Number(server?.port?.number ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Go's strconv.ParseBool, used for istiod feature flags; anything unparsable is the default. */
export function envBool(env: Readonly<Record<string, string>>, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined) return dflt;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return dflt;
}
