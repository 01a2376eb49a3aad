import { friendlyName, namespaceOf, type Resource } from '../../api/resource.js';
import type { WorkloadInstance } from '../../api/snapshot.js';
import { defaultMeshConfig, mergeMesh, type MeshConfig } from '../../config/mesh.js';
import type { ConfigStore } from '../../config/store.js';
import { parse } from 'yaml';
import type { Notes } from './notes.js';

// Which Telemetry resources configure a proxy, in Istio's order of precedence (istiod's
// Telemetries.applicableTelemetries): the root namespace's namespace-wide one (mesh-wide), then
// the proxy's namespace-wide one, then the first one in its namespace whose selector matches the
// workload's labels. Later levels override earlier ones. Within a level, the oldest resource wins
// (resources come sorted by creation time, then name); the others are told as notes, as are
// resources that attach with targetRefs (gateways and waypoints, which the local mesh has none of).

export interface ApplicableTelemetries {
  /** Root, namespace, workload: those that exist, in that order. */
  levels: Resource[];
}

function hasTargetRefs(r: Resource): boolean {
  const spec = r.spec ?? {};
  return spec.targetRef != null || (Array.isArray(spec.targetRefs) && spec.targetRefs.length > 0);
}

function selectorLabels(r: Resource): Record<string, string> | undefined {
  const labels = r.spec?.selector?.matchLabels;
  return labels && typeof labels === 'object' && Object.keys(labels).length > 0 ? (labels as Record<string, string>) : undefined;
}

function namespaceWide(telemetries: Resource[], ns: string, notes: Notes): Resource | undefined {
  const wide = telemetries.filter((t) => namespaceOf(t) === ns && !selectorLabels(t) && !hasTargetRefs(t));
  for (const extra of wide.slice(1)) notes.add(friendlyName(extra), `namespace ${ns} has another Telemetry without selector (${friendlyName(wide[0])}), which takes effect; this one is ignored, as in Istio`);
  return wide[0];
}

export function applicableTelemetries(telemetries: Resource[], rootNamespace: string, inst: WorkloadInstance, notes: Notes): ApplicableTelemetries {
  const levels: Resource[] = [];
  for (const t of telemetries) {
    if (hasTargetRefs(t) && namespaceOf(t) === inst.namespace) {
      notes.add(friendlyName(t), 'targetRefs attach a Telemetry to gateways and waypoints; the local mesh has none, so it configures no sidecar');
    }
  }
  const root = namespaceWide(telemetries, rootNamespace, notes);
  if (root) levels.push(root);
  if (inst.namespace !== rootNamespace) {
    const ns = namespaceWide(telemetries, inst.namespace, notes);
    if (ns) levels.push(ns);
  }
  const matching = telemetries.filter((t) => {
    const sel = selectorLabels(t);
    return namespaceOf(t) === inst.namespace && sel !== undefined && Object.entries(sel).every(([k, v]) => inst.labels[k] === v);
  });
  if (matching.length > 0) levels.push(matching[0]);
  for (const extra of matching.slice(1)) {
    notes.add(friendlyName(extra), `also selects ${inst.namespace}/${inst.name}, which takes its settings from ${friendlyName(matching[0])} (the oldest); this one is ignored for it`);
  }
  return { levels };
}

/** Providers Istio always defines, even when the mesh config lists others (mesh.go's default extension providers). */
const BUILT_IN_PROVIDERS = [
  { name: 'prometheus', prometheus: {} },
  { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
];

/**
 * The mesh config in force: a `MeshConfig` resource (named `meshconfig`, else the last one), else
 * the `istio` ConfigMap of the root namespace (`data.mesh`, as istiod reads it), merged over
 * Istio's defaults; the built-in providers are added when the config does not name them.
 */
export function meshConfigFromStore(store: ConfigStore, rootNamespace: string): MeshConfig {
  let user: Record<string, any> | undefined;
  const meshConfigs = store.list('MeshConfig');
  const chosen = meshConfigs.find((r) => r.metadata.name === 'meshconfig') ?? meshConfigs[meshConfigs.length - 1];
  if (chosen?.spec && typeof chosen.spec === 'object') user = chosen.spec;
  if (!user) {
    const cm = store.get('ConfigMap', rootNamespace, 'istio');
    const text = cm?.raw?.data?.mesh;
    if (typeof text === 'string') {
      try {
        const parsed: unknown = parse(text);
        if (parsed && typeof parsed === 'object') user = parsed as Record<string, any>;
      } catch {
        user = undefined; // an unreadable mesh config: istiod keeps its defaults too
      }
    }
  }
  const mesh = user ? mergeMesh(defaultMeshConfig(), user) : defaultMeshConfig();
  const providers: Array<Record<string, any>> = Array.isArray(mesh.extensionProviders) ? [...mesh.extensionProviders] : [];
  for (const p of BUILT_IN_PROVIDERS) if (!providers.some((q) => String(q?.name).toLowerCase() === p.name)) providers.push(p);
  mesh.extensionProviders = providers;
  return mesh;
}
