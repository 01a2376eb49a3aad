import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { nsName, selectorMatches } from '../../util.js';
import { collectServiceHosts, findDestination } from './service-hosts.js';

// A DestinationRule whose host names no known service configures nothing, and a subset whose
// labels match no pod routes traffic into a black hole (503s). Pods are matched with the
// topology labels Istio adds to endpoints from their node (region, zone, subzone, hostname),
// so subsets keyed on locality are not false positives.

const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const SUBZONE = 'topology.istio.io/subzone';
const HOSTNAME = 'kubernetes.io/hostname';

/** Pod labels as the registry sees them: with the node's (non-empty) locality and the node name. */
function endpointLabels(pod: Resource, nodeLabels: Map<string, Record<string, string>>): Record<string, string> {
  const labels = { ...(pod.metadata.labels ?? {}) };
  const nodeName: string | undefined = pod.spec?.nodeName;
  const node = nodeName ? nodeLabels.get(nodeName) : undefined;
  if (!nodeName || !node) return labels;
  // Istio leaves out empty locality labels, so a subset asking for an empty region matches nothing.
  for (const key of [REGION, ZONE, SUBZONE]) if (node[key]) labels[key] = node[key];
  labels[HOSTNAME] = nodeName;
  return labels;
}

interface SubsetCheck {
  dr: Resource;
  name: string;
  selector: Record<string, string>;
  matched: boolean;
}

export const subsetSelectPodAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Finds DestinationRule subsets whose labels match no running pod of the host',
  inputs: ['DestinationRule', 'Pod', 'Service', 'ServiceEntry', 'Node'],
  codes: ['IST0173', 'IST0174'],
  analyze(ctx) {
    const hosts = collectServiceHosts(ctx);
    const nodeLabels = new Map(ctx.list('Node').map((n) => [n.metadata.name, n.metadata.labels ?? {}] as const));

    const checks: SubsetCheck[] = [];
    for (const dr of ctx.list('DestinationRule')) {
      const host = String(dr.spec?.host ?? '');
      const svc = findDestination(hosts, namespaceOf(dr), dr.spec?.exportTo, host);
      if (!svc) {
        ctx.report(newMessage('IST0174', dr, [host, nsName(dr)]));
        continue;
      }
      // One check per subset name: a repeated name is one subset to Istio.
      const byName = new Map<string, SubsetCheck>();
      for (const subset of dr.spec?.subsets ?? []) {
        const name = String(subset?.name ?? '');
        byName.set(name, { dr, name, selector: { ...svc.workloadLabels, ...(subset?.labels ?? {}) }, matched: false });
      }
      checks.push(...byName.values());
    }

    // Any pod in the cluster may satisfy a subset, as in Istio's analyzer.
    for (const pod of ctx.list('Pod')) {
      const labels = endpointLabels(pod, nodeLabels);
      for (const c of checks) if (!c.matched && selectorMatches(c.selector, labels)) c.matched = true;
    }
    for (const c of checks) if (!c.matched) ctx.report(newMessage('IST0173', c.dr, [c.name, nsName(c.dr)]));
  },
};
