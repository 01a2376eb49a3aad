import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const selectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'TODO',
  inputs: ['Sidecar', 'Pod', 'Namespace'],
  codes: [],
  analyze() {},
};
