import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'TODO',
  inputs: ['VirtualService'],
  codes: [],
  analyze() {},
};
