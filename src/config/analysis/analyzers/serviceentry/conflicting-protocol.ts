import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const conflictingProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'TODO',
  inputs: ['ServiceEntry'],
  codes: [],
  analyze() {},
};
