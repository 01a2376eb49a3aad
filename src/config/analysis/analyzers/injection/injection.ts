import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import {
  DATAPLANE_MODE_AMBIENT,
  DATAPLANE_MODE_LABEL,
  INJECTION_ENABLED,
  INJECTION_LABEL,
  REVISION_LABEL,
  SIDECAR_INJECT,
  injectorConfigMapName,
  injectsNamespacesByDefault,
  proxyContainer,
} from './util.js';

// A workload only joins the sidecar mesh if its namespace asks for injection. A namespace with no
// injection label silently stays outside; one with conflicting labels (legacy + revision, or
// sidecar + ambient) leaves it unclear which data plane it gets; and a pod in an injected
// namespace that has no proxy was created before injection was on (or the webhook failed).

/** The injection-related labels a namespace carries, as `key=value`; a disabled legacy label hides the others. */
function injectionLabels(labels: Record<string, string>): string[] {
  const legacy = labels[INJECTION_LABEL];
  const found = legacy !== undefined ? [`${INJECTION_LABEL}=${legacy}`] : [];
  if (legacy === undefined || legacy === INJECTION_ENABLED) {
    for (const key of [REVISION_LABEL, DATAPLANE_MODE_LABEL]) {
      if (labels[key] !== undefined) found.push(`${key}=${labels[key]}`);
    }
  }
  return found;
}

/** Whether the default injector injects namespaces that carry no label at all. */
function defaultInjectionOn(ctx: AnalysisContext): boolean {
  const cm = ctx.list('ConfigMap').find((c) => c.metadata.name === injectorConfigMapName(undefined));
  return cm !== undefined && injectsNamespacesByDefault(cm);
}

/** Checks one namespace; returns true when its pods are expected to carry a sidecar. */
function checkNamespace(ctx: AnalysisContext, ns: Resource): boolean {
  const labels = ns.metadata.labels ?? {};
  const name = ns.metadata.name;

  const conflicting = injectionLabels(labels);
  if (conflicting.length > 1) ctx.report(newMessage('IST0123', ns, [conflicting]));

  // Ambient namespaces get no sidecars by design.
  if (labels[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT) return false;

  const legacy = labels[INJECTION_LABEL] ?? '';
  if (legacy === '' && labels[REVISION_LABEL] === undefined) {
    if (defaultInjectionOn(ctx)) ctx.report(newMessage('IST0148', ns, [name]));
    else ctx.report(newMessage('IST0102', ns, [name, name], ['metadata', 'name']));
    return false;
  }
  // Any other legacy value is a deliberate opt-out.
  return legacy === INJECTION_ENABLED;
}

/** A pod opts out with sidecar.istio.io/inject=false (label first, then annotation); host-network pods are never injected. */
function expectsSidecar(pod: Resource): boolean {
  const inject = pod.metadata.labels?.[SIDECAR_INJECT] ?? pod.metadata.annotations?.[SIDECAR_INJECT] ?? '';
  if (String(inject).toLowerCase() === 'false') return false;
  return pod.spec?.hostNetwork !== true;
}

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks that namespaces are labelled for sidecar injection and that their pods carry the proxy',
  inputs: ['Namespace', 'Pod', 'ConfigMap'],
  codes: ['IST0102', 'IST0103', 'IST0123', 'IST0148'],
  analyze(ctx) {
    const injected = new Set<string>();
    for (const ns of ctx.list('Namespace')) {
      // The control plane's own namespace is never injected.
      if (ns.metadata.name === ctx.istioNamespace) continue;
      if (checkNamespace(ctx, ns)) injected.add(ns.metadata.name);
    }
    for (const pod of ctx.list('Pod')) {
      if (!injected.has(namespaceOf(pod)) || !expectsSidecar(pod)) continue;
      if (!proxyContainer(pod.spec)?.image) {
        ctx.report(newMessage('IST0103', pod, [`${namespaceOf(pod)}/${pod.metadata.name}`]));
      }
    }
  },
};
