import { kindInfo, type KindId } from '../../api/kinds.js';
import { friendlyName, namespaceOf, resourceKey, type Resource } from '../../api/resource.js';
import type { MeshConfig, MeshNetworks } from '../mesh.js';
import type { AnalysisContext, Analyzer } from './analyzer.js';
import { formatLog, type Message } from './message.js';

// Runs analyzers over a set of resources, the way Istio's IstiodAnalyzer does: each analyzer
// sees only the kinds it declares, messages are filtered by suppressions and namespace,
// then sorted and exact duplicates removed.

export const SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress';

export interface Suppression {
  code: string; // `IST0102` or `*`
  kind: string;
  name: string; // `name.namespace` or `name`, `*` wildcards allowed
}

export interface AnalyzeOptions {
  meshConfig: MeshConfig;
  meshNetworks: MeshNetworks;
  istioNamespace?: string;
  /** Keep only messages on resources in this namespace (and cluster-scoped ones); '' keeps all. */
  namespace?: string;
  suppressions?: readonly Suppression[];
  env?: Record<string, string>;
}

export interface AnalyzeResult {
  messages: Message[];
  /** Analyzers that ran, and the kinds each one actually read (for the declared-inputs check). */
  executed: Array<{ name: string; read: Set<KindId> }>;
}

function makeSynthetic(id: KindId, name: string, spec: Record<string, any>, ns: string): Resource {
  const info = kindInfo(id);
  return {
    info, apiVersion: `${info.group}/${info.versions[0]}`, kind: info.kind,
    metadata: { name, namespace: ns }, spec, raw: { spec }, origin: { file: '', line: 0 },
  };
}

class Index {
  private readonly byKind = new Map<KindId, Resource[]>();
  private readonly byKey = new Map<string, Resource>();
  constructor(resources: readonly Resource[]) {
    for (const r of resources) this.byKey.set(resourceKey(r), r); // later wins
    for (const r of this.byKey.values()) {
      let l = this.byKind.get(r.info.id);
      if (!l) this.byKind.set(r.info.id, (l = []));
      l.push(r);
    }
    for (const l of this.byKind.values()) l.sort(byNamespaceName);
  }
  list(kind: KindId): Resource[] {
    return this.byKind.get(kind) ?? [];
  }
  get(kind: KindId, ns: string, name: string): Resource | undefined {
    return this.byKey.get(`${kind}/${ns}/${name}`);
  }
}

function byNamespaceName(a: Resource, b: Resource): number {
  const na = namespaceOf(a), nb = namespaceOf(b);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export function runAnalyzers(resources: readonly Resource[], analyzers: readonly Analyzer[], opts: AnalyzeOptions): AnalyzeResult {
  const istioNamespace = opts.istioNamespace ?? 'istio-system';
  const all = [
    ...resources,
    makeSynthetic('MeshConfig', 'meshconfig', opts.meshConfig, istioNamespace),
    makeSynthetic('MeshNetworks', 'meshnetworks', opts.meshNetworks, istioNamespace),
  ];
  const index = new Index(all);
  const raw: Message[] = [];
  const executed: AnalyzeResult['executed'] = [];
  for (const analyzer of analyzers) {
    const allowed = new Set(analyzer.inputs);
    const read = new Set<KindId>();
    const guard = (kind: KindId) => {
      if (!allowed.has(kind)) throw new Error(`analyzer ${analyzer.name} read ${kind}, which it does not declare as an input`);
      read.add(kind);
    };
    const ctx: AnalysisContext = {
      list: (kind) => (guard(kind), index.list(kind)),
      get: (kind, ns, name) => (guard(kind), index.get(kind, ns, name)),
      report: (m) => void raw.push(m),
      meshConfig: opts.meshConfig,
      meshNetworks: opts.meshNetworks,
      istioNamespace,
      env: opts.env ?? {},
    };
    analyzer.analyze(ctx);
    executed.push({ name: analyzer.name, read });
  }
  return { messages: sortedDeduped(filterMessages(raw, opts)), executed };
}

function filterMessages(messages: Message[], opts: AnalyzeOptions): Message[] {
  return messages.filter((m) => {
    const r = m.resource;
    if (!r) return true;
    const ann = r.metadata.annotations?.[SUPPRESS_ANNOTATION];
    if (ann !== undefined) {
      const codes = String(ann).split(',').map((s) => s.trim());
      if (codes.includes('*') || codes.includes(m.code)) return false;
    }
    if (opts.namespace && namespaceOf(r) && namespaceOf(r) !== opts.namespace) return false;
    for (const s of opts.suppressions ?? []) if (suppressionMatches(s, m, r)) return false;
    return true;
  });
}

function suppressionMatches(s: Suppression, m: Message, r: Resource): boolean {
  if (s.code !== '*' && s.code !== m.code) return false;
  if (s.kind !== r.info.kind) return false;
  const ns = namespaceOf(r);
  const target = ns ? `${r.metadata.name}.${ns}` : r.metadata.name;
  const re = new RegExp(`^${s.name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(target);
}

/** Sort by origin then code, and drop exact duplicates (same printed line), as Istio's SortedDedupedCopy. */
export function sortedDeduped(messages: Message[]): Message[] {
  const keyed = messages.map((m) => ({ m, key: formatLog(m), origin: m.resource ? friendlyName(m.resource) : '' }));
  keyed.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.m.code < b.m.code ? -1 : a.m.code > b.m.code ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: Message[] = [];
  let last = '';
  for (const { m, key } of keyed) {
    if (key === last) continue;
    out.push(m);
    last = key;
  }
  return out;
}

/** The default ingress gateway Pod and Service Istio's analysis adds when ingress is on (local/defaults.go). */
export function defaultIngressResources(meshConfig: MeshConfig, istioNamespace = 'istio-system'): Resource[] {
  if (meshConfig.ingressControllerMode === 'OFF') return [];
  const svcName = meshConfig.ingressService || 'istio-ingressgateway';
  const labels = { istio: 'ingressgateway' };
  const mk = (id: KindId, name: string, obj: Record<string, any>): Resource => {
    const info = kindInfo(id);
    return { info, apiVersion: 'v1', kind: info.kind, metadata: obj.metadata, spec: obj.spec, raw: obj, origin: { file: '', line: 0 } };
  };
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${svcName}-dummypod`, namespace: istioNamespace, labels }, spec: { containers: [{ name: 'istio-proxy' }] } };
  const port = (name: string, p: number, nodePort: number) => ({ name, port: p, targetPort: p, nodePort, protocol: 'TCP' });
  const svc = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: svcName, namespace: istioNamespace },
    spec: { selector: labels, ports: [port('http2', 80, 31380), port('https', 443, 31390), port('tcp', 31400, 31400), port('tls', 15443, 31447)] },
  };
  return [mk('Pod', pod.metadata.name, pod), mk('Service', svcName, svc)];
}
