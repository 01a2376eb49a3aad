import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const defaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: 'TODO',
  inputs: ['Telemetry'],
  codes: [],
  analyze() {},
};
