import { UNKNOWN, type WorkloadIdentity } from './workload-identity.js';

// Istio's standard label sets, rendered once as Prometheus label text (`name="value",...`) in the
// order Istio's stats filter pushes its tags. A label set is built when a new edge or a new
// outcome is first seen, never per request: the text doubles as the series key and as the
// exposition line, so a scrape writes it as is.

export type Reporter = 'source' | 'destination';

/** What one reporter knows about an edge: who called, who answered, which service was addressed. */
export interface EdgeFacts {
  reporter: Reporter;
  /** The calling workload: this sidecar's on source reports, the peer's (null: unknown) on destination reports. */
  source: WorkloadIdentity | null;
  /** The answering workload: the endpoint's (null: unknown) on source reports, this sidecar's on destination reports. */
  destination: WorkloadIdentity | null;
  serviceHost: string;
  serviceName: string;
  serviceNamespace: string;
  /** SPIFFE ids (`spiffe://...`) known from mutual TLS; absent: `unknown`. */
  sourcePrincipal?: string;
  destinationPrincipal?: string;
}

/** Escapes a label value for the text exposition format (backslash, double quote, line feed). */
export function escapeLabelValue(v: string): string {
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function pair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** A peer's value: Istio writes `unknown` for what the peer metadata leaves empty. */
const peer = (v: string | undefined) => (v ? v : UNKNOWN);

/**
 * The labels an edge fixes, reporter to destination_cluster. This sidecar's own values are
 * written as they are; the peer's (null or empty) become `unknown`, a peer's canonical revision
 * `latest`, as Istio's stats filter does. Principals are the SPIFFE ids mutual TLS established, else `unknown`.
 */
export function edgeLabelText(e: EdgeFacts): string {
  const selfIsSource = e.reporter === 'source';
  const s = e.source;
  const d = e.destination;
  const side = (id: WorkloadIdentity | null, self: boolean, field: keyof WorkloadIdentity) => (self ? (id?.[field] ?? '') : peer(id?.[field]));
  const revision = (id: WorkloadIdentity | null, self: boolean) => (self ? (id?.canonicalRevision ?? 'latest') : (id?.canonicalRevision || 'latest'));
  return [
    pair('reporter', e.reporter),
    pair('source_workload', side(s, selfIsSource, 'workload')),
    pair('source_canonical_service', side(s, selfIsSource, 'canonicalService')),
    pair('source_canonical_revision', revision(s, selfIsSource)),
    pair('source_workload_namespace', side(s, selfIsSource, 'namespace')),
    pair('source_principal', e.sourcePrincipal || UNKNOWN),
    pair('source_app', side(s, selfIsSource, 'app')),
    pair('source_version', side(s, selfIsSource, 'version')),
    pair('source_cluster', side(s, selfIsSource, 'cluster')),
    pair('destination_workload', side(d, !selfIsSource, 'workload')),
    pair('destination_workload_namespace', side(d, !selfIsSource, 'namespace')),
    pair('destination_principal', e.destinationPrincipal || UNKNOWN),
    pair('destination_app', side(d, !selfIsSource, 'app')),
    pair('destination_version', side(d, !selfIsSource, 'version')),
    pair('destination_service', e.serviceHost || UNKNOWN),
    pair('destination_canonical_service', side(d, !selfIsSource, 'canonicalService')),
    pair('destination_canonical_revision', revision(d, !selfIsSource)),
    pair('destination_service_name', e.serviceName || UNKNOWN),
    pair('destination_service_namespace', e.serviceNamespace || UNKNOWN),
    pair('destination_cluster', side(d, !selfIsSource, 'cluster')),
  ].join(',');
}

/**
 * Istio's connection_security_policy: `unknown` on source reports (the client cannot tell),
 * `mutual_tls` on destination reports of mutual TLS connections, `none` on plaintext ones.
 */
export function securityPolicyOf(reporter: Reporter, mtls = false): string {
  return reporter === 'source' ? UNKNOWN : mtls ? 'mutual_tls' : 'none';
}

/** The labels of one HTTP outcome on an edge, appended to the edge's text. */
export function httpLabelText(edge: string, reporter: Reporter, protocol: 'http' | 'grpc', code: number, grpcStatus: string, flags: string, mtls = false): string {
  return `${edge},${pair('request_protocol', protocol)},${pair('response_code', String(code))},${pair('grpc_response_status', grpcStatus)},${pair('response_flags', flags)},${pair('connection_security_policy', securityPolicyOf(reporter, mtls))}`;
}

/** The labels of TCP metrics on an edge (Istio's TCP reports carry no response code). */
export function tcpLabelText(edge: string, reporter: Reporter, flags: string): string {
  return `${edge},${pair('request_protocol', 'tcp')},${pair('response_flags', flags)},${pair('connection_security_policy', securityPolicyOf(reporter))}`;
}
