// Workload identities as Istio names them: SPIFFE ids `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`.
// AuthorizationPolicy `principals` are written without the `spiffe://` scheme
// (`cluster.local/ns/default/sa/sleep`), so both forms are here.

/** Istio's default trust domain (MeshConfig.trustDomain). */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export function spiffeUri(id: SpiffeId): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The principal of an id as AuthorizationPolicy and telemetry write it: the URI without `spiffe://`. */
export function principalOf(uri: string): string {
  return uri.startsWith('spiffe://') ? uri.slice('spiffe://'.length) : uri;
}

/** Parses `spiffe://td/ns/<ns>/sa/<sa>` (null when it is not an Istio workload id). */
export function parseSpiffe(uri: string): SpiffeId | null {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  return m ? { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] } : null;
}

/** The first `URI:spiffe://...` of a certificate's subjectaltname text (node:tls / X509Certificate). */
export function spiffeFromSan(subjectAltName: string | undefined): string | null {
  if (!subjectAltName) return null;
  for (const part of subjectAltName.split(',')) {
    const p = part.trim();
    if (p.startsWith('URI:spiffe://')) return p.slice(4);
  }
  return null;
}
