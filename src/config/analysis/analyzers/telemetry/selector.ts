import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: 'TODO',
  inputs: ['Telemetry', 'Pod'],
  codes: [],
  analyze() {},
};
