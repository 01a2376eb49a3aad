import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const imageAutoAnalyzer: Analyzer = {
  name: 'injection.ImageAutoAnalyzer',
  description: 'TODO',
  inputs: ['Namespace', 'Pod', 'Deployment', 'MutatingWebhookConfiguration'],
  codes: [],
  analyze() {},
};
