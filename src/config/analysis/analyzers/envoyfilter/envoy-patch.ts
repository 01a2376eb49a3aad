import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const envoyPatchAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'TODO',
  inputs: ['EnvoyFilter'],
  codes: [],
  analyze() {},
};
