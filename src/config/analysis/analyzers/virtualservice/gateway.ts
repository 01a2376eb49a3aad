import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const gatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'TODO',
  inputs: ['Gateway', 'KubernetesGateway', 'VirtualService'],
  codes: [],
  analyze() {},
};
