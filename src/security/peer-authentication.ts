import type { Resource } from '../api/resource.js';

// Istio's PeerAuthentication resolution for one workload: the workload-specific policy (a
// selector matching its labels, in its namespace) over the namespace-wide one (no selector)
// over the mesh-wide one (no selector, root namespace); the oldest wins a level. A mode UNSET
// (or absent) inherits from the next level up; nothing anywhere is PERMISSIVE. `portLevelMtls`
// is honoured on workload-specific policies only (keys are the workload's ports), and a port's
// UNSET inherits the workload's resolved mode.

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface ResolvedPeerAuthentication {
  /** The mode for ports without a port-level setting. */
  mode: MtlsMode;
  /** Port-level modes (workload port -> mode). */
  ports: Map<number, MtlsMode>;
  /** `PeerAuthentication ns/name` of each level that decided something, most specific first. */
  origins: string[];
}

export interface WorkloadRef {
  namespace: string;
  labels: Record<string, string>;
}

const origin = (r: Resource) => `PeerAuthentication ${r.metadata.namespace ?? ''}/${r.metadata.name}`;

function modeOf(v: unknown): MtlsMode | undefined {
  return v === 'STRICT' || v === 'PERMISSIVE' || v === 'DISABLE' ? v : undefined; // UNSET / absent: inherit
}

function selectorOf(r: Resource): Record<string, string> | undefined {
  const m = r.spec?.selector?.matchLabels;
  return m && typeof m === 'object' && Object.keys(m).length > 0 ? (m as Record<string, string>) : undefined;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/** `policies` in Istio's order (oldest first). */
export function resolvePeerAuthentication(policies: readonly Resource[], w: WorkloadRef, rootNamespace: string): ResolvedPeerAuthentication {
  const workload = policies.find((p) => p.metadata.namespace === w.namespace && selectorOf(p) !== undefined && matches(selectorOf(p)!, w.labels));
  const namespace = policies.find((p) => p.metadata.namespace === w.namespace && selectorOf(p) === undefined);
  const mesh = policies.find((p) => p.metadata.namespace === rootNamespace && selectorOf(p) === undefined);
  const origins: string[] = [];
  let mode: MtlsMode | undefined;
  for (const p of [workload, namespace, mesh]) {
    if (!p || mode !== undefined) continue;
    const m = modeOf(p.spec?.mtls?.mode);
    if (m !== undefined) {
      mode = m;
      origins.push(origin(p));
    }
  }
  const resolved: MtlsMode = mode ?? 'PERMISSIVE';
  const ports = new Map<number, MtlsMode>();
  const portLevel = workload?.spec?.portLevelMtls;
  if (workload && portLevel && typeof portLevel === 'object') {
    for (const [port, v] of Object.entries(portLevel as Record<string, { mode?: string }>)) {
      const n = Number(port);
      if (!Number.isInteger(n)) continue;
      ports.set(n, modeOf(v?.mode) ?? resolved);
    }
    if (ports.size && !origins.includes(origin(workload))) origins.unshift(origin(workload));
  }
  return { mode: resolved, ports, origins };
}

export function modeForPort(r: ResolvedPeerAuthentication, port: number): MtlsMode {
  return r.ports.get(port) ?? r.mode;
}
