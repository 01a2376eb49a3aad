import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const crdVersionAnalyzer: Analyzer = {
  name: 'k8sgateway.CRDVersionAnalyzer',
  description: 'TODO',
  inputs: ['CustomResourceDefinition'],
  codes: [],
  analyze() {},
};
