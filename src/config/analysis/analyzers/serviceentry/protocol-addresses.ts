import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const protocolAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'TODO',
  inputs: ['ServiceEntry', 'MeshConfig'],
  codes: [],
  analyze() {},
};
