import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: schema.ValidationAnalyzer.<Kind> for every Istio kind; not implemented yet.
export const schemaValidationAnalyzers: Analyzer[] = [
  { name: 'schema.ValidationAnalyzer.VirtualService', description: 'TODO', inputs: ['VirtualService'], codes: [], analyze() {} },
];
