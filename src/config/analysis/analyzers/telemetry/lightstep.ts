import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const lightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'TODO',
  inputs: ['Telemetry', 'MeshConfig'],
  codes: [],
  analyze() {},
};
