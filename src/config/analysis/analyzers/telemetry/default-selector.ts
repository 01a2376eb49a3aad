import { namespaceOf } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { groupBy, sortedNames } from './util.js';

// A Telemetry without a selector applies to its whole namespace. Two of them in one namespace
// leave it undefined which one the workloads get.

export const defaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: 'Checks that a namespace has at most one Telemetry without a selector',
  inputs: ['Telemetry'],
  codes: ['IST0160'],
  analyze(ctx) {
    // As Istio does, only `selector` counts: an empty selector is still a selector.
    const namespaceWide = ctx.list('Telemetry').filter((t) => t.spec?.selector == null);
    for (const [ns, telemetries] of groupBy(namespaceWide, namespaceOf)) {
      if (telemetries.length < 2) continue;
      const names = sortedNames(telemetries);
      for (const t of telemetries) ctx.report(newMessage('IST0160', t, [names, ns]));
    }
  },
};
