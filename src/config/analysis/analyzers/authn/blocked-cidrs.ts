import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description: 'TODO',
  inputs: ['RequestAuthentication', 'Deployment'],
  codes: [],
  analyze() {},
};
