import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { isIstioAnnotation, lookupAnnotation, type AnnotationDef } from './registry.js';
import { annotationValueError } from './validation.js';

// Istio reads its annotations only where it expects them: a typo in the name, an annotation on
// the Deployment instead of its pod template, or a value the injector cannot parse is silently
// ignored at runtime. This analyzer flags Istio annotations on Kubernetes objects that are
// unknown, deprecated, on the wrong kind of resource, or have an invalid value.

const SIDECAR_INJECT = 'sidecar.istio.io/inject';

/** Extra words for deprecations that have a direct replacement. */
const REPLACEMENT_HINT: Readonly<Record<string, string>> = {
  [SIDECAR_INJECT]: ' in favor of the "sidecar.istio.io/inject" label',
};

/**
 * Someone who also set the `sidecar.istio.io/inject` label keeps the old annotation on purpose
 * (for older control planes), so its deprecation is not worth a message.
 */
function keepsDeprecatedOnPurpose(r: Resource, name: string): boolean {
  return name === SIDECAR_INJECT && r.metadata.labels?.[SIDECAR_INJECT] !== undefined;
}

function checkAnnotation(ctx: AnalysisContext, r: Resource, name: string, value: unknown, def: AnnotationDef): void {
  const path = ['metadata', 'annotations', name];
  if (def.deprecated && !keepsDeprecatedOnPurpose(r, name)) {
    ctx.report(newMessage('IST0135', r, [name, REPLACEMENT_HINT[name] ?? ''], path));
  }
  if (def.resources.includes('Any')) return;
  if (!(def.resources as readonly string[]).includes(r.info.kind)) {
    ctx.report(newMessage('IST0107', r, [name, def.resources.join(', ')], path));
    return;
  }
  const problem = annotationValueError(name, value);
  if (problem) ctx.report(newMessage('IST0125', r, [name, problem], path));
}

function checkResource(ctx: AnalysisContext, r: Resource): void {
  for (const [name, value] of Object.entries(r.metadata.annotations ?? {})) {
    if (!isIstioAnnotation(name)) continue;
    const def = lookupAnnotation(name);
    if (def) checkAnnotation(ctx, r, name, value, def);
    else ctx.report(newMessage('IST0108', r, [name], ['metadata', 'annotations', name]));
  }
}

export const k8sAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks Istio annotations on Kubernetes resources: unknown, misplaced, deprecated or with invalid values',
  inputs: ['Namespace', 'Service', 'Pod', 'Deployment'],
  codes: ['IST0107', 'IST0108', 'IST0125', 'IST0135'],
  analyze(ctx) {
    for (const kind of ['Namespace', 'Service', 'Pod', 'Deployment'] as const) {
      for (const r of ctx.list(kind)) checkResource(ctx, r);
    }
  },
};
