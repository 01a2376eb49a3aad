import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const multiServiceAnalyzer: Analyzer = {
  name: 'deployment.MultiServiceAnalyzer',
  description: 'TODO',
  inputs: ['Service', 'Deployment', 'Namespace'],
  codes: [],
  analyze() {},
};
