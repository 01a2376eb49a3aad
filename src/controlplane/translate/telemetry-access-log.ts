import { friendlyName, type Resource } from '../../api/resource.js';
import type { TelemetrySettings } from '../../api/snapshot.js';
import type { MeshConfig } from '../../config/mesh.js';
import type { Notes } from './notes.js';
import { defaultProviders, directionsOf, findProvider, providerNames, type Provider } from './telemetry-providers.js';

// A proxy's access logging from its applicable Telemetries (istiod's Telemetries.AccessLogging and
// mergeLogs), for each listener direction:
// - no Telemetry speaks of access logging and the mesh config names no default provider: the mesh
//   config's legacy `accessLogFile` (on when set) and `accessLogEncoding` (TEXT or JSON) decide;
// - otherwise the providers a level names replace its parent's (else the defaults), and each
//   entry matching the direction (match.mode) turns its providers on, or off with `disabled`.
// The sidecar writes Envoy's file access log (the `envoyFileAccessLog` provider kind, Istio's
// `envoy` provider) to its stdout; other provider kinds and CEL filters are reported, not applied.

const STDOUT = '/dev/stdout';

type Direction = 'inbound' | 'outbound';
type Entry = { t: Resource; l: Record<string, any>; i: number };

function fileLogFormat(p: Provider, origin: string, notes: Notes): 'text' | 'json' {
  const path = p.config.path;
  if (typeof path === 'string' && path !== '' && path !== STDOUT) notes.add(origin, `provider ${p.name} writes to ${path}; the local mesh writes access logs to each sidecar's stdout (its log file) instead`);
  const f = p.config.logFormat;
  if (f?.labels !== undefined) {
    if (f.labels && Object.keys(f.labels).length > 0) notes.add(origin, `provider ${p.name}: custom JSON labels are not implemented; Istio's default JSON fields are written`);
    return 'json';
  }
  if (typeof f?.text === 'string' && f.text !== '') notes.add(origin, `provider ${p.name}: a custom text format is not implemented; Istio's default text format is written`);
  return 'text';
}

/** The providers logging on one direction (mergeLogs), with the entry that named each. */
function mergeLogs(entries: Entry[][], defaults: string[], dir: Direction): Map<string, Entry | null> {
  const providers = new Map<string, Entry | null>();
  if (entries.length === 0) {
    for (const d of defaults) providers.set(d, null);
    return providers;
  }
  let names = defaults;
  for (const level of entries) {
    const levelNames = new Set(level.flatMap((e) => providerNames(e.l)));
    if (levelNames.size > 0) names = [...levelNames];
  }
  const inScope = new Set(names);
  let parent = defaults;
  for (const level of entries) {
    for (const e of level) {
      const own = providerNames(e.l);
      const ps = own.length > 0 ? own : parent;
      parent = ps;
      for (const p of ps) {
        if (!inScope.has(p) || !directionsOf(e.l.match?.mode).includes(dir)) continue;
        if (e.l.disabled === true) providers.delete(p);
        else providers.set(p, e);
      }
    }
  }
  return providers;
}

export function accessLogSettings(levels: Resource[], mesh: MeshConfig, notes: Notes): NonNullable<TelemetrySettings['accessLog']> {
  const defaults = defaultProviders(mesh, 'accessLogging');
  const entries: Entry[][] = levels
    .map((t) => (Array.isArray(t.spec?.accessLogging) ? t.spec.accessLogging : []).map((l: Record<string, any>, i: number) => ({ t, l, i })))
    .filter((level) => level.length > 0);
  if (entries.length === 0 && defaults.length === 0) {
    // No Telemetry API configuration: the mesh config's legacy fields.
    const file = typeof mesh.accessLogFile === 'string' ? mesh.accessLogFile : '';
    const format = mesh.accessLogEncoding === 'JSON' ? 'json' : 'text';
    if (file !== '' && file !== STDOUT) notes.add('mesh config', `accessLogFile ${file}: the local mesh writes access logs to each sidecar's stdout (its log file) instead`);
    if (typeof mesh.accessLogFormat === 'string' && mesh.accessLogFormat !== '') notes.add('mesh config', "accessLogFormat is not implemented; Istio's default format is written");
    return { enabled: file !== '', format };
  }
  const formats: Partial<Record<Direction, 'text' | 'json'>> = {};
  for (const dir of ['outbound', 'inbound'] as const) {
    for (const [name, entry] of mergeLogs(entries, defaults, dir)) {
      const origin = entry ? `${friendlyName(entry.t)}: spec.accessLogging[${entry.i}]` : 'mesh config defaultProviders.accessLogging';
      if (entry?.l.filter?.expression) notes.add(origin, 'access log filters (CEL) are not implemented; every request is logged');
      const p = findProvider(mesh, name);
      if (p.kind === 'envoyFileAccessLog') formats[dir] ??= fileLogFormat(p, origin, notes);
      else if (p.kind === 'missing') notes.add(origin, `access log provider ${name} is not defined in the mesh config's extensionProviders; ignored, as in Istio`);
      else notes.add(origin, `access log provider ${name} (${p.written}) is not implemented by the local mesh; only envoyFileAccessLog (Istio's envoy provider) is`);
    }
  }
  const on = (['outbound', 'inbound'] as const).filter((d) => formats[d] !== undefined);
  if (on.length === 0) return { enabled: false, format: 'text' };
  const format = formats[on[0]]!;
  if (on.length === 2 && formats.inbound !== formats.outbound) notes.add('Telemetry', `inbound and outbound access logs ask for different formats; the local mesh writes ${format} for both`);
  return on.length === 2 ? { enabled: true, format } : { enabled: true, format, directions: on };
}
