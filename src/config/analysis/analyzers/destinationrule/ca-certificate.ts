import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'TODO',
  inputs: ['DestinationRule'],
  codes: [],
  analyze() {},
};
