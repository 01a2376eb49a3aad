import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const meshNetworksAnalyzer: Analyzer = {
  name: 'meshnetworks.MeshNetworksAnalyzer',
  description: 'TODO',
  inputs: ['MeshNetworks', 'Secret'],
  codes: [],
  analyze() {},
};
