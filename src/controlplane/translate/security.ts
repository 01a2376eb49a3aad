import type { AuthorizationSettings, ClusterTransportSecurity, ListenerMtls, PortProtocol, RequestAuthenticationSettings } from '../../api/snapshot.js';
import { selectJwtRules } from '../../security/request-authentication.js';
import { selectAuthorizationPolicies } from '../../security/authz/policy-selection.js';
import { modeForPort, resolvePeerAuthentication, type ResolvedPeerAuthentication } from '../../security/peer-authentication.js';
import type { NodeContext } from './node-context.js';

// Istio's security API in one proxy's snapshot: PeerAuthentication decides what each inbound
// listener accepts (mutual TLS, plaintext, or both), AuthorizationPolicies that select the
// workload travel to its RBAC filter, and outbound clusters use mutual TLS when a
// DestinationRule says ISTIO_MUTUAL or, by auto mTLS, towards endpoints that have a sidecar.

const resolved = new WeakMap<NodeContext, ResolvedPeerAuthentication>();

function peerAuthentication(ctx: NodeContext): ResolvedPeerAuthentication {
  let r = resolved.get(ctx);
  if (!r) {
    r = resolvePeerAuthentication(ctx.view.peerAuthentications ?? [], { namespace: ctx.instance.namespace, labels: ctx.instance.labels }, ctx.view.rootNamespace);
    resolved.set(ctx, r);
  }
  return r;
}

/** The `mtls` of an inbound listener on `port` (undefined: DISABLE, plaintext only). */
export function inboundMtls(ctx: NodeContext, port: number, protocol: PortProtocol): ListenerMtls | undefined {
  const mode = modeForPort(peerAuthentication(ctx), port);
  if (mode === 'DISABLE') return undefined;
  if (protocol !== 'http') {
    // TCP listeners, and HTTP/2 inside TLS (node:http2 does not take a TLS socket made by hand), are plaintext for now.
    if (mode === 'STRICT') ctx.notes.add(`instance ${ctx.instance.namespace}/${ctx.instance.name}`, `port ${port} is ${protocol}: mutual TLS on ${protocol === 'tcp' ? 'TCP' : 'HTTP/2'} ports is not implemented yet, STRICT is not enforced there (plaintext is accepted)`);
    return undefined;
  }
  return { mode };
}

/** AuthorizationPolicies for the workload's inbound listeners (undefined when none applies). */
export function authorizationSettings(ctx: NodeContext): AuthorizationSettings | undefined {
  const { policies, notes } = selectAuthorizationPolicies(ctx.view.authorizationPolicies ?? [], { namespace: ctx.instance.namespace, labels: ctx.instance.labels }, ctx.view.rootNamespace);
  for (const [origin, text] of notes) ctx.notes.add(origin, text);
  return policies.length ? { policies } : undefined;
}

/** RequestAuthentication JWT rules for the workload's inbound listeners (undefined when none applies). */
export function requestAuthenticationSettings(ctx: NodeContext): RequestAuthenticationSettings | undefined {
  const rules = selectJwtRules(ctx.view.requestAuthentications ?? [], { namespace: ctx.instance.namespace, labels: ctx.instance.labels }, ctx.view.rootNamespace);
  return rules.length ? { rules } : undefined;
}

/** An outbound cluster's transport security from its DestinationRule's `tls` (as resolved for the subset/port), or auto mTLS. */
export function clusterTransportSecurity(ctx: NodeContext, tls: any, origin: string, protocol: 'http1' | 'http2' | 'tcp'): ClusterTransportSecurity | undefined {
  const mode = tls?.mode;
  if (protocol !== 'http1') {
    // The servers of these ports take plaintext only for now (see inboundMtls).
    if (mode === 'ISTIO_MUTUAL') ctx.notes.add(origin, `tls.mode ISTIO_MUTUAL on a ${protocol === 'tcp' ? 'TCP' : 'HTTP/2'} port is not implemented yet; connections stay plaintext`);
    return undefined;
  }
  if (mode === undefined || mode === null) return ctx.view.meshConfig?.enableAutoMtls === false ? undefined : { mode: 'ISTIO_MUTUAL', auto: true };
  if (mode === 'ISTIO_MUTUAL') return { mode: 'ISTIO_MUTUAL' };
  if (mode === 'DISABLE') return { mode: 'DISABLE' };
  ctx.notes.add(origin, `tls.mode ${String(mode)} (origination to non-mesh servers) is not implemented yet; connections stay plaintext`);
  return { mode: 'DISABLE' };
}

