import type { CauseTarget } from './types.js';

// Which graph node (or edge) an incident's cause names, by the graph's node ids
// (src/telemetry/graph: `svc:<fqdn>`, `wl:<namespace>/<workload>`, `inst:...`).

const svcId = (service: string, ns: string) => `svc:${service}.${ns}.svc.cluster.local`;
const present = (ids: Array<string | undefined | false>): string[] => ids.filter((x): x is string => Boolean(x));

/** Ids of the elements a cause target points at, most specific first. */
export function elementIdsFor(target: CauseTarget | undefined): string[] {
  if (!target) return [];
  const ns = target.namespace;
  switch (target.kind) {
    case 'instance':
    case 'version':
      return present([target.workload && `wl:${ns}/${target.workload}`, target.service && svcId(target.service, ns)]);
    case 'service':
    case 'overload':
      return target.service ? [svcId(target.service, ns)] : [];
    case 'edge':
      return present([target.service && svcId(target.service, ns), target.source && `wl:${ns}/${target.source}`]);
    case 'external':
      return target.host ? [`svc:${target.host}`] : [];
    default:
      return target.service ? [svcId(target.service, ns)] : [];
  }
}

/** `instance reviews-v2-0.bookinfo` and the like: the target in a phrase (as the CLI's, with an arrow for edges). */
export function describeTarget(t: CauseTarget): string {
  const ns = t.namespace;
  switch (t.kind) {
    case 'instance': return `instance ${t.instance}.${ns}`;
    case 'version': return `version ${t.version} of ${t.service}.${ns}`;
    case 'service': return `service ${t.service}.${ns}`;
    case 'edge': return `edge ${t.sourceService ?? t.source} → ${t.service}.${ns}`;
    case 'external': return `external host ${t.host}`;
    case 'overload': return `overload of ${t.service}.${ns}`;
    default: return `${t.kind} ${t.resource?.kind ?? ''} ${t.resource?.namespace ?? ''}/${t.resource?.name ?? ''}`;
  }
}
