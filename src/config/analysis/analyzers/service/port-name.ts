import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'TODO',
  inputs: ['Service'],
  codes: [],
  analyze() {},
};
