import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const externalControlPlaneAnalyzer: Analyzer = {
  name: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
  description: 'TODO',
  inputs: ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
  codes: [],
  analyze() {},
};
