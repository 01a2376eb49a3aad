import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const providerAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'TODO',
  inputs: ['Telemetry', 'MeshConfig'],
  codes: [],
  analyze() {},
};
