import type { CompiledSnapshot } from '../compiled-snapshot.js';
import type { HostOutlierState } from './outlier-detector.js';
import type { OutlierDetectors } from './outlier-detectors.js';

// What the admin endpoint `/clusters` shows (Envoy's /clusters, in meshmedic's words): each
// cluster's endpoints with their state, so "which pod was ejected, for how long, after how
// many errors?" has an answer (istio#40143, #52962). Built on demand, never on the hot path.

export type EndpointState = 'HEALTHY' | 'UNHEALTHY' | 'EJECTED';

export interface EndpointStatus {
  endpoint: string; // endpoint key: `address:port` or `unix:/path`
  instance: string;
  /** UNHEALTHY: not healthy in the snapshot (the registry knows it is down); EJECTED: by outlier detection. */
  status: EndpointState;
  ejections: number;
  /** Time left of the ejection, ms (0 when not ejected). */
  ejectedForMs: number;
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  /** Reason of the current or last ejection. */
  ejectionReason?: string;
}

export interface ClusterStatus {
  name: string;
  direction: 'inbound' | 'outbound';
  outlierDetection: boolean;
  /** Below minHealthPercent: every host takes traffic, ejected ones included. */
  panic: boolean;
  ejectionsActive: number;
  endpoints: EndpointStatus[];
}

export function clusterStatuses(compiled: CompiledSnapshot | null, detectors: OutlierDetectors): ClusterStatus[] {
  if (compiled === null) return [];
  const out: ClusterStatus[] = [];
  for (const c of compiled.clusters.values()) {
    const detector = detectors.get(c.def.name);
    const states = detector?.states() ?? new Map<string, HostOutlierState>();
    const inPool = new Set(c.healthyInSnapshot);
    out.push({
      name: c.def.name,
      direction: c.def.direction,
      outlierDetection: detector !== undefined,
      panic: detector?.panic ?? false,
      ejectionsActive: detector?.ejectionsActive ?? 0,
      endpoints: c.hosts.map((h) => {
        const st = states.get(h.key);
        return {
          endpoint: h.key,
          instance: h.endpoint.instance,
          status: !inPool.has(h) ? 'UNHEALTHY' : st?.ejected ? 'EJECTED' : 'HEALTHY',
          ejections: st?.ejections ?? 0,
          ejectedForMs: st?.ejectedForMs ?? 0,
          consecutive5xx: st?.consecutive5xx ?? 0,
          consecutiveGatewayErrors: st?.consecutiveGatewayErrors ?? 0,
          ...(st?.reason !== undefined && { ejectionReason: st.reason }),
        };
      }),
    });
  }
  return out;
}

/** Envoy's text form: `cluster::endpoint::field::value` lines. */
export function clusterStatusText(list: ClusterStatus[]): string {
  const lines: string[] = [];
  for (const c of list) {
    if (c.outlierDetection) lines.push(`${c.name}::outlier::ejections_active::${c.ejectionsActive}`, `${c.name}::outlier::panic::${c.panic}`);
    for (const e of c.endpoints) {
      const p = `${c.name}::${e.endpoint}::`;
      const flags = e.status === 'EJECTED' ? '/failed_outlier_check' : e.status === 'UNHEALTHY' ? '/failed_eds_health' : 'healthy';
      lines.push(`${p}instance::${e.instance}`, `${p}health_flags::${flags}`);
      if (c.outlierDetection) {
        lines.push(`${p}outlier_ejections::${e.ejections}`, `${p}ejected_for_ms::${e.ejectedForMs}`, `${p}consecutive_5xx::${e.consecutive5xx}`, `${p}consecutive_gateway_errors::${e.consecutiveGatewayErrors}`);
      }
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
