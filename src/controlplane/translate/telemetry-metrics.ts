import { friendlyName, type Resource } from '../../api/resource.js';
import type { TelemetrySettings } from '../../api/snapshot.js';
import type { MeshConfig } from '../../config/mesh.js';
import type { Notes } from './notes.js';
import { defaultProviders, directionsOf, findProvider, providerNames } from './telemetry-providers.js';

// A proxy's metrics settings from its applicable Telemetries (istiod's mergeMetrics): the
// providers a level names replace its parent's; for each in-scope provider, the overrides of every
// level apply in order, so a workload can re-enable what the mesh disabled. The sidecar's
// Prometheus exporter is the `prometheus` provider kind; metrics are on when such a provider is
// in scope and not disabled with an ALL_METRICS override, and single metrics can be disabled per
// mode (CLIENT: outbound listeners, SERVER: inbound ones).

const ALL_METRICS = [
  'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
];

export function metricsSettings(levels: Resource[], mesh: MeshConfig, notes: Notes): NonNullable<TelemetrySettings['metrics']> {
  const defaults = defaultProviders(mesh, 'metrics');
  const entries = levels.flatMap((t) => (Array.isArray(t.spec?.metrics) ? t.spec.metrics : []).map((m: Record<string, any>, i: number) => ({ t, m, i })));
  let inScope = defaults;
  for (const { m } of entries) if (providerNames(m).length > 0) inScope = providerNames(m);
  const exporters = inScope.filter((name) => {
    const p = findProvider(mesh, name);
    if (p.kind === 'prometheus') return true;
    const origin = entries.find((e) => providerNames(e.m).includes(name))?.t;
    notes.add(origin ? friendlyName(origin) : 'mesh config', p.kind === 'missing' ? `metrics provider ${name} is not defined in the mesh config's extensionProviders; ignored, as in Istio` : `metrics provider ${name} (${p.written}) is not implemented by the local mesh; only prometheus is`);
    return false;
  });
  if (exporters.length === 0) return { enabled: false };
  const exporter = exporters[0];
  // istiod: the exporter's filter exists when it is a default provider and no Telemetry speaks of metrics, or when a level names it.
  let present = entries.length === 0 && defaults.includes(exporter);
  let disabledAll = false;
  const disabled = { inbound: new Map<string, boolean>(), outbound: new Map<string, boolean>() };
  let parent = defaults;
  for (const { t, m, i } of entries) {
    const names = providerNames(m).length > 0 ? providerNames(m) : parent;
    parent = names;
    if (!names.includes(exporter)) continue;
    present = true;
    const overrides: Array<Record<string, any>> = Array.isArray(m.overrides) ? m.overrides : [];
    overrides.forEach((o, j) => {
      const match = o?.match ?? {};
      const where = `${friendlyName(t)}: spec.metrics[${i}].overrides[${j}]`;
      if (o?.tagOverrides && Object.keys(o.tagOverrides).length > 0) notes.add(where, 'tagOverrides are not implemented by the local mesh; the standard labels are exported unchanged');
      if (typeof match.customMetric === 'string') {
        notes.add(where, `custom metric ${match.customMetric} is not implemented by the local mesh; the override is ignored`);
        return;
      }
      if (match.metric === 'ALL_METRICS' && o.disabled === true) {
        disabledAll = true;
        return;
      }
      disabledAll = false; // a later level's override re-enables what an ALL_METRICS disable dropped (istiod)
      if (typeof o?.disabled !== 'boolean') return;
      const metrics = match.metric && match.metric !== 'ALL_METRICS' ? [String(match.metric)] : ALL_METRICS;
      for (const dir of directionsOf(match.mode)) for (const name of metrics) disabled[dir].set(name, o.disabled);
    });
    if (m.reportingInterval !== undefined) notes.add(`${friendlyName(t)}: spec.metrics[${i}].reportingInterval`, 'not implemented: TCP byte counts are brought up to date at every scrape instead');
  }
  if (!present || disabledAll) return { enabled: false };
  const off = (dir: 'inbound' | 'outbound') => [...disabled[dir]].filter(([, v]) => v).map(([k]) => k).sort();
  const inbound = off('inbound');
  const outbound = off('outbound');
  return inbound.length === 0 && outbound.length === 0 ? { enabled: true } : { enabled: true, disabled: { inbound, outbound } };
}
