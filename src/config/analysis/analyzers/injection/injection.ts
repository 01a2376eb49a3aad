import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'TODO',
  inputs: ['Namespace', 'Pod', 'ConfigMap'],
  codes: [],
  analyze() {},
};
