import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const k8sgatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'TODO',
  inputs: ['AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'WasmPlugin', 'Pod'],
  codes: [],
  analyze() {},
};
