import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import { groupBy } from '../telemetry/util.js';
import { firstSelectorKey, namespaceInAmbientMode, podInAmbientMode, selectorString } from './workloads.js';

// A proxy takes exactly one Sidecar resource: the one whose workloadSelector matches it, else the
// namespace's selector-less one. When several could apply, which one wins is undefined, so the
// proxy's config is unpredictable. A selector that matches no pod is most likely a typo. Ambient
// workloads have no sidecar at all, so a Sidecar that targets them does nothing.

const AMBIENT_POD = 'selected workload is in ambient mode, the policy has no impact';
const AMBIENT_NAMESPACE = 'namespace is in ambient mode, the policy has no impact';

function workloadLabels(sidecar: Resource): Record<string, string> | undefined {
  const labels = sidecar.spec?.workloadSelector?.labels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

/** Pods of the Sidecar's own namespace that its selector picks. */
function selectedPods(sidecar: Resource, labels: Record<string, string>, pods: readonly Resource[]): Resource[] {
  return pods.filter((p) => namespaceOf(p) === namespaceOf(sidecar) && selectorMatches(labels, p.metadata.labels));
}

function names(sidecars: readonly Resource[]): string[] {
  return sidecars.map((s) => s.metadata.name);
}

export const selectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description:
    'Checks that Sidecars with a workload selector match at least one pod, that no pod is selected by several Sidecars, ' +
    'that a namespace has at most one selector-less Sidecar, and that Sidecars do not target ambient workloads',
  inputs: ['Sidecar', 'Pod', 'Namespace'],
  codes: ['IST0101', 'IST0110', 'IST0111', 'IST0167'],
  analyze(ctx) {
    const pods = ctx.list('Pod');
    const namespaceWide: Resource[] = [];
    const sidecarsByPod = new Map<Resource, Resource[]>();

    for (const sidecar of ctx.list('Sidecar')) {
      const labels = workloadLabels(sidecar);
      if (!labels) {
        namespaceWide.push(sidecar);
        continue;
      }
      const selected = selectedPods(sidecar, labels, pods);
      if (selected.length === 0) {
        const path = ['spec', 'workloadSelector', 'labels', firstSelectorKey(labels)];
        ctx.report(newMessage('IST0101', sidecar, ['selector', selectorString(labels)], path));
      }
      for (const pod of selected) sidecarsByPod.set(pod, [...(sidecarsByPod.get(pod) ?? []), sidecar]);
    }

    const ineffective = new Set<Resource>();
    const reportIneffective = (sidecar: Resource, why: string) => {
      if (ineffective.has(sidecar)) return;
      ineffective.add(sidecar);
      ctx.report(newMessage('IST0167', sidecar, [why]));
    };

    checkPerPod(ctx, sidecarsByPod, reportIneffective);
    checkPerNamespace(ctx, namespaceWide, reportIneffective);
  },
};

/** Several Sidecars selecting one pod conflict, unless the pod is ambient (then each is just ineffective). */
function checkPerPod(ctx: AnalysisContext, sidecarsByPod: Map<Resource, Resource[]>, ineffective: (s: Resource, why: string) => void): void {
  for (const [pod, sidecars] of sidecarsByPod) {
    if (podInAmbientMode(pod)) {
      for (const s of sidecars) ineffective(s, AMBIENT_POD);
      continue;
    }
    if (sidecars.length < 2) continue;
    for (const s of sidecars) {
      ctx.report(newMessage('IST0110', s, [names(sidecars), namespaceOf(pod), pod.metadata.name], ['metadata', 'name']));
    }
  }
}

/** More than one selector-less Sidecar in a namespace conflict; in an ambient namespace they do nothing. */
function checkPerNamespace(ctx: AnalysisContext, namespaceWide: readonly Resource[], ineffective: (s: Resource, why: string) => void): void {
  for (const [ns, sidecars] of groupBy(namespaceWide, namespaceOf)) {
    if (namespaceInAmbientMode(ctx.get('Namespace', '', ns))) {
      for (const s of sidecars) ineffective(s, AMBIENT_NAMESPACE);
      continue;
    }
    if (sidecars.length < 2) continue;
    for (const s of sidecars) ctx.report(newMessage('IST0111', s, [names(sidecars), ns]));
  }
}
