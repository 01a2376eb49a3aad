import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext } from '../../analyzer.js';
import { ISTIO_PROXY_CONTAINER } from '../../util.js';

// Workload helpers shared by the selector-style analyzers (Sidecar, Telemetry, AuthorizationPolicy):
// how a label selector prints, and whether a pod or namespace is in the mesh, as sidecar or ambient.

const AMBIENT_REDIRECTION_ANNOTATION = 'ambient.istio.io/redirection';
const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
const INJECTION_LABEL = 'istio-injection';
const REVISION_LABEL = 'istio.io/rev';
const SIDECAR_INJECT = 'sidecar.istio.io/inject';

/** A label map printed as Kubernetes prints a selector: keys sorted, `k=v` joined by commas. */
export function selectorString(labels: Record<string, string> | undefined | null): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`)
    .join(',');
}

/** The first key of a selector in its printed (sorted) order: the field a message points at. */
export function firstSelectorKey(labels: Record<string, string> | undefined | null): string {
  return Object.keys(labels ?? {}).sort()[0] ?? '';
}

/** Ztunnel redirects the pod's traffic: it has no sidecar, so sidecar-only config does nothing for it. */
export function podInAmbientMode(pod: Resource | undefined): boolean {
  return pod?.metadata.annotations?.[AMBIENT_REDIRECTION_ANNOTATION] === 'enabled';
}

/** A namespace labelled for ambient, unless it also asks for sidecar injection (which then wins). */
export function namespaceInAmbientMode(ns: Resource | undefined): boolean {
  const labels = ns?.metadata.labels;
  if (!labels) return false;
  if (labels[INJECTION_LABEL] === 'enabled') return false;
  if (labels[REVISION_LABEL]) return false;
  return labels[DATAPLANE_MODE_LABEL] === 'ambient';
}

/**
 * A pod has (or will get) a sidecar: an `istio-proxy` container with an image, else the pod's own
 * `sidecar.istio.io/inject` label or annotation, else its namespace's `istio-injection` label.
 */
export function podInMesh(ctx: AnalysisContext, pod: Resource): boolean {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (containers.some((c: any) => c?.name === ISTIO_PROXY_CONTAINER && c?.image)) return true;
  for (const meta of [pod.metadata.labels, pod.metadata.annotations]) {
    if (meta && SIDECAR_INJECT in meta) return meta[SIDECAR_INJECT] === 'true';
  }
  const ns = ctx.get('Namespace', '', pod.metadata.namespace ?? '');
  return ns?.metadata.labels?.[INJECTION_LABEL] === 'enabled';
}
