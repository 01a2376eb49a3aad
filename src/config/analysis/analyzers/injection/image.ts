import type { Analyzer } from '../../analyzer.js';

// PLACEHOLDER: not implemented yet; emits nothing.
export const imageAnalyzer: Analyzer = {
  name: 'injection.ImageAnalyzer',
  description: 'TODO',
  inputs: ['Namespace', 'Pod', 'ConfigMap', 'MeshConfig', 'ProxyConfig'],
  codes: [],
  analyze() {},
};
