import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const alphaAnalyzer: Analyzer = {
  name: 'annotations.AlphaAnalyzer',
  description: 'TODO',
  inputs: ['Namespace', 'Service', 'Pod', 'Deployment'],
  codes: [],
  defaultEnabled: false, // Istio leaves the alpha-annotation analyzer out of All()
  analyze() {},
};
