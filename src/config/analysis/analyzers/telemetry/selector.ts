import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import { firstSelectorKey, selectorString } from '../sidecar/workloads.js';
import { sortedNames } from './util.js';

// A workload takes its telemetry settings from one Telemetry resource per scope. If two Telemetries
// with selectors match the same pod, which one applies is undefined. A selector that matches no pod
// in its namespace is most likely a typo (or the workload is gone) and configures nothing.

function matchLabels(telemetry: Resource): Record<string, string> | undefined {
  const labels = telemetry.spec?.selector?.matchLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: 'Checks that Telemetries with a selector match at least one pod, and that no pod is selected by several Telemetries',
  inputs: ['Telemetry', 'Pod'],
  codes: ['IST0101', 'IST0159'],
  analyze(ctx) {
    const pods = ctx.list('Pod');
    const telemetriesByPod = new Map<Resource, Resource[]>();

    for (const telemetry of ctx.list('Telemetry')) {
      const labels = matchLabels(telemetry);
      if (!labels) continue; // namespace-wide: telemetry.DefaultSelectorAnalyzer's concern
      const selected = pods.filter((p) => namespaceOf(p) === namespaceOf(telemetry) && selectorMatches(labels, p.metadata.labels));
      if (selected.length === 0) {
        const path = ['spec', 'selector', 'matchLabels', firstSelectorKey(labels)];
        ctx.report(newMessage('IST0101', telemetry, ['selector', selectorString(labels)], path));
      }
      for (const pod of selected) telemetriesByPod.set(pod, [...(telemetriesByPod.get(pod) ?? []), telemetry]);
    }

    for (const [pod, telemetries] of telemetriesByPod) {
      if (telemetries.length < 2) continue;
      const names = sortedNames(telemetries);
      for (const t of telemetries) {
        ctx.report(newMessage('IST0159', t, [names, namespaceOf(pod), pod.metadata.name], ['metadata', 'name']));
      }
    }
  },
};
