import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'TODO',
  inputs: ['ServiceEntry', 'VirtualService', 'Service'],
  codes: [],
  analyze() {},
};
