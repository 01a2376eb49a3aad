import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const subsetSelectPodAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'TODO',
  inputs: ['DestinationRule', 'Pod', 'Service', 'ServiceEntry', 'Node'],
  codes: [],
  analyze() {},
};
