import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'TODO',
  inputs: ['Service', 'ServiceEntry', 'WorkloadEntry', 'AuthorizationPolicy', 'KubernetesGateway', 'HTTPRoute', 'GRPCRoute'],
  codes: [],
  analyze() {},
};
