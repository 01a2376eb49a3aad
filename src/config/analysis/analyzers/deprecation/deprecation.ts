import type { Resource } from '../../../../api/resource.js';
import type { AnalysisContext, Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// Deprecated fields keep parsing but are ignored (or soon will be), and removed resource types are
// not served at all, so configuration that uses them does not do what its author expects.
// Istio has no machine-readable list of deprecated fields; like Istio, this checks a hand-picked
// set: VirtualService fault delay `percent`, Sidecar `outboundTrafficPolicy.egressProxy`, and the
// CRDs of the removed rbac.istio.io API.

/** Istio resource types that were removed (their CRDs are no longer shipped). */
const REMOVED_CRDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: 'rbac.istio.io', kind: 'ClusterRbacConfig' },
  { group: 'rbac.istio.io', kind: 'RbacConfig' },
  { group: 'rbac.istio.io', kind: 'ServiceRole' },
  { group: 'rbac.istio.io', kind: 'ServiceRoleBinding' },
];

/** The integer `percent` of a fault delay was replaced by the fractional `percentage`. */
function checkVirtualService(ctx: AnalysisContext, vs: Resource): void {
  for (const route of vs.spec?.http ?? []) {
    if (Number(route?.fault?.delay?.percent) > 0) {
      ctx.report(newMessage('IST0002', vs, ['http.fault.delay.percent is replaced by http.fault.delay.percentage']));
    }
  }
}

/** The proxy ignores an egress proxy set in a Sidecar's outbound traffic policy. */
function checkSidecar(ctx: AnalysisContext, sc: Resource): void {
  const egressProxy = sc.spec?.outboundTrafficPolicy?.egressProxy;
  if (egressProxy !== undefined && egressProxy !== null) {
    ctx.report(newMessage('IST0002', sc, ['outboundTrafficPolicy.egressProxy has no effect']));
  }
}

function checkCrd(ctx: AnalysisContext, crd: Resource): void {
  const group = crd.spec?.group;
  const kind = crd.spec?.names?.kind;
  for (const removed of REMOVED_CRDS) {
    if (removed.group === group && removed.kind === kind) {
      ctx.report(newMessage('IST0002', crd, [`custom resource type ${group} ${kind} was removed from Istio`]));
    }
  }
}

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'Checks for deprecated Istio resource types and fields',
  inputs: ['VirtualService', 'Sidecar', 'CustomResourceDefinition'],
  codes: ['IST0002'],
  analyze(ctx) {
    for (const vs of ctx.list('VirtualService')) checkVirtualService(ctx, vs);
    for (const sc of ctx.list('Sidecar')) checkSidecar(ctx, sc);
    for (const crd of ctx.list('CustomResourceDefinition')) checkCrd(ctx, crd);
  },
};
