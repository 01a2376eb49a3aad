import type { Detection } from '../model.js';
import type { Edge, Entity, Features, SignalSnapshot } from '../signals/snapshot.js';
import type { SloConfig, ServiceSlo } from './slo.js';

// A detector reads a SignalSnapshot (the last few seconds against the baseline before them) and
// returns the checks that fail now, one Detection per failing subject. One detector per file,
// registered in registry.ts.

export interface Detector {
  /** The check's name in detections (`error-ratio`, `latency`, ...). */
  check: string;
  evaluate(snapshot: SignalSnapshot, slo: SloConfig): Detection[];
}

export interface Subject {
  subject: string;
  namespace: string;
  /** `name.namespace` of the service, for per-service SLOs. */
  service?: string;
  cur: Features | null;
  base: Features | null;
}

/** Every subject a traffic check looks at, with the reporter that sees it best. */
export function trafficSubjects(s: SignalSnapshot): Subject[] {
  const out: Subject[] = [];
  const callersView = (e: { current: { source: Features | null; destination: Features | null }; baseline: { source: Features | null; destination: Features | null } }) =>
    e.current.source?.requests ? { cur: e.current.source, base: e.baseline.source } : { cur: e.current.destination, base: e.baseline.destination };
  for (const e of s.entities) {
    const svc = e.service ? `${e.service}.${e.namespace}` : undefined;
    if (e.kind === 'service') {
      out.push({ subject: `service ${svc}`, namespace: e.namespace, service: svc, ...callersView(e) });
      // The service's own sidecars too: what callers see includes the network, this does not.
      if (e.current.source?.requests && e.current.destination?.requests) out.push({ subject: `service ${svc} (inbound)`, namespace: e.namespace, service: svc, cur: e.current.destination, base: e.baseline.destination });
    } else if (e.kind === 'external') out.push({ subject: `external ${e.host}`, namespace: externalNamespace(s, e), cur: e.current.source, base: e.baseline.source });
    else if (e.kind === 'workload') out.push({ subject: `workload ${e.workload}.${e.namespace}`, namespace: e.namespace, service: svc, cur: e.current.destination, base: e.baseline.destination });
    else if (e.kind === 'instance') out.push({ subject: `instance ${e.instance}.${e.namespace}`, namespace: e.namespace, service: svc, cur: e.current.destination, base: e.baseline.destination });
  }
  for (const e of s.edges) out.push({ subject: edgeSubject(e), namespace: e.sourceNamespace !== 'unknown' ? e.sourceNamespace : e.namespace, service: e.external ? undefined : `${e.service}.${e.namespace}`, ...callersView(e) });
  return out;
}

export function edgeSubject(e: Edge): string {
  return `edge ${e.sourceWorkload} -> ${e.external ? e.host : `${e.service}.${e.namespace}`}`;
}

function externalNamespace(s: SignalSnapshot, e: Entity): string {
  return s.edges.find((x) => x.host === e.host && x.sourceNamespace !== 'unknown')?.sourceNamespace ?? '';
}

export function serviceSlo(slo: SloConfig, service: string | undefined): ServiceSlo {
  return (service && slo.services[service]) || {};
}

export function windowText(slo: SloConfig): string {
  return slo.windowMs % 1000 === 0 ? `${slo.windowMs / 1000}s` : `${slo.windowMs}ms`;
}
