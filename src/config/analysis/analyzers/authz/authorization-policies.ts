import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'TODO',
  inputs: ['MeshConfig', 'AuthorizationPolicy', 'Namespace', 'Pod'],
  codes: [],
  analyze() {},
};
