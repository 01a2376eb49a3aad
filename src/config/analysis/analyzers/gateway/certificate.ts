import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const certificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'TODO',
  inputs: ['Gateway'],
  codes: [],
  analyze() {},
};
