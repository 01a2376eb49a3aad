import { namespaceOf, type Resource } from '../../api/resource.js';
import type { Change } from '../../config/store.js';
import { hostForms } from './hosts.js';
import type { ConfigChangeSignal } from './snapshot.js';

// Config changes from the store's history, described for diagnosis: which hosts (and
// workloads) a change speaks of, before and after, which aspects of traffic it touches and,
// in words, what it changed. Versions group a change set applied together (`apply -f`).

type Raw = Record<string, any>;

const STATE_KINDS = new Set(['Namespace']); // what says nothing about traffic

export function configChangeSignals(changes: readonly Change[], fromMs: number, toMs: number): ConfigChangeSignal[] {
  const out: ConfigChangeSignal[] = [];
  for (const c of changes) {
    if (c.at < fromMs || c.at > toMs) continue;
    if (STATE_KINDS.has(c.resource.info.kind)) continue;
    out.push(describeChange(c));
  }
  return out;
}

export function describeChange(c: Change): ConfigChangeSignal {
  const after = c.type === 'deleted' ? undefined : c.resource;
  const before = c.previous && c.type !== 'added' ? c.previous : undefined;
  const r = c.resource;
  const ns = namespaceOf(r);
  const hosts = new Set<string>();
  for (const x of [before, after]) if (x) for (const h of hostsOf(x)) hosts.add(h);
  const { aspects, details } = compare(r.info.kind, before?.spec ?? {}, after?.spec ?? {}, c.type);
  const workloads = selectorWorkloads(after ?? before!);
  return {
    version: c.version,
    at: c.at,
    type: c.type,
    resource: { kind: r.info.kind, namespace: ns, name: r.metadata.name },
    hosts: [...hosts].sort(),
    ...(workloads && { workloads }),
    details,
    aspects,
  };
}

/** Every host a resource speaks of, as FQDNs (or external hosts). */
export function hostsOf(r: Resource): string[] {
  const ns = namespaceOf(r);
  const spec: Raw = r.spec ?? {};
  const out: string[] = [];
  const add = (h: unknown) => out.push(...hostForms(h, ns));
  switch (r.info.kind) {
    case 'VirtualService':
      for (const h of arr(spec.hosts)) add(h);
      for (const route of [...arr(spec.http), ...arr(spec.tcp), ...arr(spec.tls)]) {
        for (const d of arr(route?.route)) add(d?.destination?.host);
        if (route?.mirror) add(route.mirror.host);
      }
      break;
    case 'DestinationRule':
      add(spec.host);
      break;
    case 'ServiceEntry':
      for (const h of arr(spec.hosts)) add(h);
      break;
    case 'Service':
      add(r.metadata.name);
      break;
    case 'Sidecar':
      for (const e of arr(spec.egress)) for (const h of arr(e?.hosts)) add(String(h).split('/').pop());
      break;
  }
  return [...new Set(out)];
}

/** `namespace/*` for a selector-less policy of a namespace, or the labels it selects (as `namespace/key=value`). */
function selectorWorkloads(r: Resource): string[] | undefined {
  const kind = r.info.kind;
  if (!['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication', 'Sidecar', 'EnvoyFilter', 'Telemetry'].includes(kind)) return undefined;
  const ns = namespaceOf(r);
  const labels: Record<string, string> | undefined = (r.spec as Raw | undefined)?.selector?.matchLabels ?? (r.spec as Raw | undefined)?.workloadSelector?.labels;
  if (!labels || Object.keys(labels).length === 0) return [`${ns}/*`];
  return Object.entries(labels).map(([k, v]) => `${ns}/${k}=${v}`);
}

const ASPECTS: Record<string, Array<[path: string, aspect: string]>> = {
  VirtualService: [['hosts', 'routing'], ['http', 'routing'], ['tcp', 'routing'], ['tls', 'routing'], ['gateways', 'routing']],
  DestinationRule: [['subsets', 'subsets'], ['trafficPolicy.connectionPool', 'connectionPool'], ['trafficPolicy.outlierDetection', 'outlierDetection'], ['trafficPolicy.tls', 'tls'], ['trafficPolicy.loadBalancer', 'loadBalancer'], ['host', 'routing']],
  ServiceEntry: [['hosts', 'routing'], ['endpoints', 'endpoints'], ['ports', 'endpoints'], ['resolution', 'endpoints'], ['location', 'routing']],
  AuthorizationPolicy: [['', 'authorization']],
  PeerAuthentication: [['', 'tls']],
  RequestAuthentication: [['', 'authorization']],
  Sidecar: [['', 'routing']],
  Service: [['selector', 'endpoints'], ['ports', 'endpoints']],
  WorkloadEntry: [['', 'endpoints']],
};

function compare(kind: string, before: Raw, after: Raw, type: Change['type']): { aspects: string[]; details: string[] } {
  const aspects = new Set<string>();
  const details: string[] = [];
  for (const [path, aspect] of ASPECTS[kind] ?? [['', 'other']]) {
    const b = at(before, path);
    const a = at(after, path);
    if (JSON.stringify(b) !== JSON.stringify(a)) aspects.add(aspect);
  }
  if (kind === 'VirtualService') vsDetails(before, after, aspects, details);
  if (kind === 'DestinationRule') drDetails(before, after, details);
  if (type !== 'updated') details.unshift(`${kind} ${type}`);
  return { aspects: [...aspects].sort(), details };
}

/** Routes, faults, timeouts and retries of each HTTP route, before -> after. */
function vsDetails(before: Raw, after: Raw, aspects: Set<string>, details: string[]): void {
  const b = arr(before.http);
  const a = arr(after.http);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const rb = b[i] ?? {};
    const ra = a[i] ?? {};
    const routes = (r: Raw) => arr(r.route).map((d: Raw) => `${d?.destination?.host ?? '?'}${d?.destination?.subset ? `/${d.destination.subset}` : ''}${d?.weight !== undefined ? ` ${d.weight}` : ''}`).join(', ') || 'none';
    if (routes(rb) !== routes(ra)) details.push(`http[${i}] route: ${routes(rb)} -> ${routes(ra)}`);
    for (const [field, aspect] of [['fault', 'fault'], ['timeout', 'timeout'], ['retries', 'retries'], ['mirror', 'routing']] as const) {
      const x = JSON.stringify(rb[field] ?? null);
      const y = JSON.stringify(ra[field] ?? null);
      if (x !== y) {
        aspects.add(aspect);
        details.push(`http[${i}] ${field}: ${x === 'null' ? 'none' : x} -> ${y === 'null' ? 'none' : y}`);
      }
    }
  }
}

function drDetails(before: Raw, after: Raw, details: string[]): void {
  const subsets = (s: Raw) => arr(s.subsets).map((x: Raw) => x?.name).join(', ') || 'none';
  if (subsets(before) !== subsets(after)) details.push(`subsets: ${subsets(before)} -> ${subsets(after)}`);
  for (const field of ['connectionPool', 'outlierDetection', 'tls', 'loadBalancer']) {
    const x = JSON.stringify(before.trafficPolicy?.[field] ?? null);
    const y = JSON.stringify(after.trafficPolicy?.[field] ?? null);
    if (x !== y) details.push(`trafficPolicy.${field}: ${x === 'null' ? 'none' : x} -> ${y === 'null' ? 'none' : y}`);
  }
}

function at(o: Raw, path: string): unknown {
  if (path === '') return o;
  let cur: any = o;
  for (const seg of path.split('.')) cur = cur?.[seg];
  return cur;
}

function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}
