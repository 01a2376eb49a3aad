import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: 'TODO',
  inputs: ['Gateway', 'Pod', 'Service'],
  codes: [],
  analyze() {},
};
