import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const destinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'TODO',
  inputs: ['VirtualService', 'DestinationRule'],
  codes: [],
  analyze() {},
};
