// Istio's registry of resource annotations (the `annotation` package of istio/api, from its
// annotations.yaml): for each annotation the resource types it belongs on, whether it is
// deprecated, and the maturity of the feature behind it. The annotation analyzers need these
// facts to tell unknown, misplaced, deprecated and alpha annotations apart.
//
// Facts only; no descriptions. An entry that leaves out its feature status in the source counts
// as Alpha, which is what Istio's generated Go code does (Alpha is the zero value).

export type FeatureStatus = 'Alpha' | 'Beta' | 'Stable';

/** `Any` means the annotation may sit on any resource. */
export type AnnotationResourceType =
  | 'Any' | 'AuthorizationPolicy' | 'Gateway' | 'GatewayClass' | 'Ingress' | 'Namespace'
  | 'Pod' | 'Service' | 'ServiceEntry' | 'WorkloadEntry';

export interface AnnotationDef {
  readonly name: string;
  readonly status: FeatureStatus;
  readonly deprecated: boolean;
  /** Internal annotations Istio leaves out of its documentation. */
  readonly hidden: boolean;
  readonly resources: readonly AnnotationResourceType[];
}

type Row = [name: string, status: FeatureStatus, flags: '' | 'deprecated' | 'hidden' | 'deprecated,hidden', resources: AnnotationResourceType[]];

const ROWS: Row[] = [
  // Telemetry and proxy behaviour on a workload.
  ['prometheus.istio.io/merge-metrics', 'Alpha', '', ['Pod']],
  ['proxy.istio.io/config', 'Beta', '', ['Pod']],
  ['proxy.istio.io/overrides', 'Alpha', 'hidden', ['Pod']],
  ['inject.istio.io/templates', 'Alpha', '', ['Pod']],
  ['istio.io/rev', 'Alpha', '', ['Pod']],

  // VM-era service account annotations, kept only so they are recognised.
  ['alpha.istio.io/kubernetes-serviceaccounts', 'Alpha', 'deprecated,hidden', ['Service']],
  ['alpha.istio.io/canonical-serviceaccounts', 'Alpha', 'deprecated,hidden', ['Service']],

  // Service-level routing.
  ['networking.istio.io/exportTo', 'Alpha', '', ['Service']],
  ['networking.istio.io/traffic-distribution', 'Alpha', '', ['Service', 'ServiceEntry']],
  ['traffic.istio.io/nodeSelector', 'Stable', '', ['Service']],

  // Sidecar injection and the injected proxy.
  ['sidecar.istio.io/inject', 'Beta', 'deprecated', ['Pod']],
  ['sidecar.istio.io/status', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/rewriteAppHTTPProbers', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/discoveryAddress', 'Alpha', 'deprecated', ['Pod']],
  ['sidecar.istio.io/proxyImage', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/proxyImageType', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/proxyCPU', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/proxyCPULimit', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/proxyMemory', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/proxyMemoryLimit', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/interceptionMode', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/bootstrapOverride', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/statsInclusionPrefixes', 'Alpha', 'deprecated', ['Pod']],
  ['sidecar.istio.io/statsInclusionSuffixes', 'Alpha', 'deprecated', ['Pod']],
  ['sidecar.istio.io/statsInclusionRegexps', 'Alpha', 'deprecated', ['Pod']],
  ['sidecar.istio.io/statsHistogramBuckets', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/statsFlushInterval', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/statsEvictionInterval', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/statsCompression', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/extraStatTags', 'Alpha', 'deprecated', ['Pod']],
  ['sidecar.istio.io/userVolume', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/userVolumeMount', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/logLevel', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/componentLogLevel', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/agentLogLevel', 'Alpha', '', ['Pod']],
  ['sidecar.istio.io/nativeSidecar', 'Alpha', '', ['Pod']],
  ['status.sidecar.istio.io/port', 'Alpha', '', ['Pod']],
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', 'Alpha', '', ['Pod']],
  ['readiness.status.sidecar.istio.io/periodSeconds', 'Alpha', '', ['Pod']],
  ['readiness.status.sidecar.istio.io/failureThreshold', 'Alpha', '', ['Pod']],
  ['readiness.status.sidecar.istio.io/applicationPorts', 'Alpha', '', ['Pod']],

  // Traffic capture (iptables) of a sidecar.
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/excludeOutboundIPRanges', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/includeInboundPorts', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/excludeInboundPorts', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/excludeInterfaces', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/includeOutboundPorts', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', 'Alpha', '', ['Pod']],
  ['traffic.sidecar.istio.io/kubevirtInterfaces', 'Alpha', 'deprecated', ['Pod']],
  ['istio.io/reroute-virtual-interfaces', 'Alpha', '', ['Pod']],

  // Ambient mode.
  ['ambient.istio.io/redirection', 'Beta', '', ['Pod']],
  ['ambient.istio.io/bypass-inbound-capture', 'Alpha', 'hidden', ['Pod']],
  ['ambient.istio.io/dns-capture', 'Alpha', 'hidden', ['Pod']],
  ['ambient.istio.io/waypoint-inbound-binding', 'Alpha', 'hidden', ['GatewayClass', 'Gateway']],

  // Gateway auto-deployment.
  ['gateway.istio.io/controller-version', 'Alpha', 'hidden', ['Any']],
  ['gateway.istio.io/service-account', 'Alpha', 'hidden', ['Gateway']],
  ['gateway.istio.io/name-override', 'Alpha', 'hidden', ['Gateway']],
  ['networking.istio.io/service-type', 'Alpha', 'hidden', ['Gateway']],

  // Control plane, policy and analysis.
  ['kubernetes.io/ingress.class', 'Stable', '', ['Ingress']],
  ['galley.istio.io/analyze-suppress', 'Alpha', '', ['Any']],
  ['istio.io/dry-run', 'Alpha', '', ['AuthorizationPolicy']],
  ['topology.istio.io/controlPlaneClusters', 'Alpha', '', ['Namespace']],

  // WorkloadEntry bookkeeping written by istiod's auto-registration.
  ['istio.io/autoRegistrationGroup', 'Alpha', 'hidden', ['WorkloadEntry']],
  ['istio.io/workloadController', 'Alpha', 'hidden', ['WorkloadEntry']],
  ['istio.io/connectedAt', 'Alpha', 'hidden', ['WorkloadEntry']],
  ['istio.io/disconnectedAt', 'Alpha', 'hidden', ['WorkloadEntry']],
];

export const ANNOTATIONS: readonly AnnotationDef[] = ROWS.map(([name, status, flags, resources]) => ({
  name,
  status,
  deprecated: flags.includes('deprecated'),
  hidden: flags.includes('hidden'),
  resources,
}));

const BY_NAME = new Map(ANNOTATIONS.map((a) => [a.name, a]));

export function lookupAnnotation(name: string): AnnotationDef | undefined {
  return BY_NAME.get(name);
}

/**
 * Whether an annotation is in Istio's namespace, so the analyzers have an opinion on it:
 * any key whose prefix ends in `istio.io`, plus the one Kubernetes annotation Istio documents.
 */
export function isIstioAnnotation(key: string): boolean {
  if (key === 'kubernetes.io/ingress.class') return true;
  return key.split('/')[0]!.endsWith('istio.io');
}
