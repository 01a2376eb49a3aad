import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'TODO',
  inputs: ['VirtualService', 'Sidecar', 'CustomResourceDefinition'],
  codes: [],
  analyze() {},
};
