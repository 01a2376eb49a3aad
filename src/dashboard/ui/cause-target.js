// Which graph node (or edge) an incident's cause names, by the graph's node ids
// (src/telemetry/graph: `svc:<fqdn>`, `wl:<namespace>/<workload>`, `inst:...`).

const svcId = (service, ns) => `svc:${service}.${ns}.svc.cluster.local`;

/** Ids of the elements a cause target points at, most specific first. */
export function elementIdsFor(target) {
  if (!target) return [];
  const ns = target.namespace;
  switch (target.kind) {
    case 'instance':
    case 'version':
      return [target.workload && `wl:${ns}/${target.workload}`, target.service && svcId(target.service, ns)].filter(Boolean);
    case 'service':
    case 'overload':
      return target.service ? [svcId(target.service, ns)] : [];
    case 'edge':
      return [target.service && svcId(target.service, ns), target.source && `wl:${ns}/${target.source}`].filter(Boolean);
    case 'external':
      return target.host ? [`svc:${target.host}`] : [];
    default:
      return target.service ? [svcId(target.service, ns)] : [];
  }
}

/** `reviews-v2-0.bookinfo (instance)` and the like: the target in a phrase (as model.ts's describeTarget). */
export function describeTarget(t) {
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
