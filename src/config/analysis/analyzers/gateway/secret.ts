import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: 'TODO',
  inputs: ['Gateway', 'Pod', 'Secret'],
  codes: [],
  analyze() {},
};
