import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const k8sAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'TODO',
  inputs: ['Namespace', 'Service', 'Pod', 'Deployment'],
  codes: [],
  analyze() {},
};
