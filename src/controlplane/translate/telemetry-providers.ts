import type { MeshConfig } from '../../config/mesh.js';

// Telemetry providers as the mesh config defines them (`extensionProviders`), looked up by name
// without regard to case, as istiod's fetchProvider does, and the provider names of a Telemetry
// entry (`providers: [{name}]`).

export type ProviderKind = 'prometheus' | 'envoyFileAccessLog' | 'other' | 'missing';

export interface Provider {
  name: string;
  kind: ProviderKind;
  /** The kind as written (`stackdriver`, `opentelemetry`, ...), for notes. */
  written: string;
  config: Record<string, any>;
}

const NON_KIND_KEYS = new Set(['name']);

export function findProvider(mesh: MeshConfig, name: string): Provider {
  const list: Array<Record<string, any>> = Array.isArray(mesh.extensionProviders) ? mesh.extensionProviders : [];
  const p = list.find((x) => typeof x?.name === 'string' && x.name.toLowerCase() === name.toLowerCase());
  if (!p) return { name, kind: 'missing', written: '', config: {} };
  const written = Object.keys(p).find((k) => !NON_KIND_KEYS.has(k)) ?? '';
  const kind: ProviderKind = written === 'prometheus' ? 'prometheus' : written === 'envoyFileAccessLog' ? 'envoyFileAccessLog' : 'other';
  return { name: p.name, kind, written, config: (p[written] ?? {}) as Record<string, any> };
}

export function providerNames(entry: Record<string, any> | undefined): string[] {
  const list = Array.isArray(entry?.providers) ? entry!.providers : [];
  return list.map((p: any) => (typeof p?.name === 'string' ? p.name : '')).filter((n: string) => n !== '');
}

export function defaultProviders(mesh: MeshConfig, signal: 'metrics' | 'accessLogging' | 'tracing'): string[] {
  const v = mesh.defaultProviders?.[signal];
  return Array.isArray(v) ? v.filter((n: unknown): n is string => typeof n === 'string') : [];
}

/** Telemetry's WorkloadMode of a `match.mode` (CLIENT, SERVER, or both), as listener directions. */
export function directionsOf(mode: unknown): Array<'inbound' | 'outbound'> {
  if (mode === 'CLIENT') return ['outbound'];
  if (mode === 'SERVER') return ['inbound'];
  return ['outbound', 'inbound'];
}
