import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const webhookAnalyzer: Analyzer = {
  name: 'webhook.Analyzer',
  description: 'TODO',
  inputs: ['MutatingWebhookConfiguration', 'Service'],
  codes: [],
  analyze() {},
};
