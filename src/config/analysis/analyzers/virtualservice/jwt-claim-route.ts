import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'TODO',
  inputs: ['VirtualService', 'RequestAuthentication', 'Gateway', 'Pod'],
  codes: [],
  analyze() {},
};
