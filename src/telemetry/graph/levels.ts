import { destinationWorkloadNode, reportingInstanceNode, serviceNode, sourceWorkloadNode, UNKNOWN_NODE, type NodeRef } from './nodes.js';
import { countsAsTraffic, UNKNOWN, type TrafficRow } from './traffic-rows.js';
import type { GraphLevel } from './types.js';

// Which edges a row feeds at each level of the graph.
//
// - workload (Kiali's workload graph with service nodes injected): caller -> service for every
//   row that counts as traffic (traffic-rows.ts), and service -> the workload that answered when
//   the row names one. Requests that reached no workload (UH, NR, UF...) stay on caller -> service.
// - service: caller -> service, the caller being the service its workload serves (see
//   CallerServices), else the workload itself (a client only), else `unknown`.
// - instance: caller instance -> service from the rows that count as traffic (source sidecars
//   name their own instance); service -> instance from every destination report, because only
//   the answering sidecar knows which instance answered (Istio's labels do not say it).

export interface PlannedEdge {
  from: NodeRef;
  to: NodeRef;
}

/**
 * The service a workload serves, read from the data itself (the rows that name it as the
 * destination of a service): the one named like its canonical service when it serves several,
 * else the first by name.
 */
export class CallerServices {
  private readonly served = new Map<string, { canonical: string; services: Map<string, TrafficRow> }>();

  constructor(rows: readonly TrafficRow[]) {
    for (const r of rows) {
      if (r.destinationWorkload === UNKNOWN || r.service === UNKNOWN) continue;
      const key = `${r.destinationNamespace}/${r.destinationWorkload}`;
      let entry = this.served.get(key);
      if (!entry) this.served.set(key, (entry = { canonical: r.destinationCanonical, services: new Map() }));
      if (!entry.services.has(r.service)) entry.services.set(r.service, r);
    }
  }

  serviceOf(namespace: string, workload: string): NodeRef | null {
    const entry = this.served.get(`${namespace}/${workload}`);
    if (!entry) return null;
    const rows = [...entry.services.values()].sort((a, b) => a.service.localeCompare(b.service));
    const named = rows.find((r) => r.serviceName === entry.canonical);
    return serviceNode(named ?? rows[0]);
  }
}

export function planEdges(level: GraphLevel, r: TrafficRow, callers: CallerServices): PlannedEdge[] {
  const traffic = countsAsTraffic(r);
  const service = serviceNode(r);
  switch (level) {
    case 'workload': {
      if (!traffic) return [];
      const out: PlannedEdge[] = [{ from: sourceWorkloadNode(r), to: service }];
      const answered = destinationWorkloadNode(r);
      if (answered) out.push({ from: service, to: answered });
      return out;
    }
    case 'service': {
      if (!traffic) return [];
      const caller = r.sourceWorkload === UNKNOWN ? UNKNOWN_NODE : (callers.serviceOf(r.sourceNamespace, r.sourceWorkload) ?? sourceWorkloadNode(r));
      return [{ from: caller, to: service }];
    }
    case 'instance': {
      const out: PlannedEdge[] = [];
      if (traffic) {
        const caller = r.reporter === 'destination' ? UNKNOWN_NODE : (reportingInstanceNode(r) ?? sourceWorkloadNode(r));
        out.push({ from: caller, to: service });
      }
      if (r.reporter === 'destination') {
        const answered = reportingInstanceNode(r) ?? destinationWorkloadNode(r);
        if (answered) out.push({ from: service, to: answered });
      }
      return out;
    }
  }
}

/** The key under which destination sidecars' reports (mTLS) are matched to the traffic an edge carries. */
export function securityKey(r: TrafficRow): string {
  return `${r.sourceNamespace}/${r.sourceWorkload}|${r.service}|${r.destinationNamespace}/${r.destinationWorkload}`;
}
