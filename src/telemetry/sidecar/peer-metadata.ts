import type { ProxyNode } from '../../api/snapshot.js';
import { DEFAULT_CLUSTER_ID, identityOf, type WorkloadIdentity } from './workload-identity.js';

// Istio's HTTP metadata exchange: the calling sidecar tells the called one who it is in two
// request headers, and the called sidecar reads them for its destination reports' source_*
// labels, then removes them before the application sees the request. Istio names the headers
// `x-envoy-peer-metadata-id` (the node id) and `x-envoy-peer-metadata` (the node metadata,
// base64 of a protobuf Struct); meshmedic keeps the names and the node metadata field names
// (WORKLOAD_NAME, NAMESPACE, CLUSTER_ID, LABELS, NAME) but encodes the metadata as base64 JSON.
// The headers of one sidecar never change, so they are encoded once; a called sidecar decodes a
// given value once and keeps the result (bounded), so a steady caller costs one Map lookup.

export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';
export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';

/** Longer values are not decoded (a caller cannot make the sidecar parse megabytes). */
const MAX_ENCODED_LENGTH = 8192;
/** Decoded peers kept; a mesh has far fewer distinct callers of one sidecar. */
const MAX_CACHED_PEERS = 1024;

export interface PeerHeaders {
  id: string;
  metadata: string;
}

interface NodeMetadata {
  NAME?: unknown;
  WORKLOAD_NAME?: unknown;
  NAMESPACE?: unknown;
  CLUSTER_ID?: unknown;
  LABELS?: unknown;
}

/** The headers a sidecar sends with every outbound request. */
export function encodePeerHeaders(node: ProxyNode, clusterId = DEFAULT_CLUSTER_ID): PeerHeaders {
  const metadata: NodeMetadata = { NAME: node.instance, WORKLOAD_NAME: node.workload, NAMESPACE: node.namespace, CLUSTER_ID: clusterId, LABELS: node.labels };
  return {
    id: `sidecar~${node.address}~${node.instance}.${node.namespace}~${node.namespace}.svc.cluster.local`,
    metadata: Buffer.from(JSON.stringify(metadata)).toString('base64'),
  };
}

/** Decodes a peer metadata header value; null when it is not one (then the peer is unknown). */
export function decodePeerMetadata(value: string): WorkloadIdentity | null {
  if (value.length === 0 || value.length > MAX_ENCODED_LENGTH) return null;
  let m: NodeMetadata;
  try {
    m = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as NodeMetadata;
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || typeof m.WORKLOAD_NAME !== 'string' || typeof m.NAMESPACE !== 'string') return null;
  const labels: Record<string, string> = {};
  if (typeof m.LABELS === 'object' && m.LABELS !== null) {
    for (const [k, v] of Object.entries(m.LABELS as Record<string, unknown>)) if (typeof v === 'string') labels[k] = v;
  }
  return identityOf(m.WORKLOAD_NAME, m.NAMESPACE, labels, typeof m.CLUSTER_ID === 'string' && m.CLUSTER_ID ? m.CLUSTER_ID : '');
}

/** Decoded peers by header value: the same caller yields the same object (series caches key on it). */
export class PeerCache {
  private readonly byValue = new Map<string, WorkloadIdentity | null>();

  lookup(value: string): WorkloadIdentity | null {
    let peer = this.byValue.get(value);
    if (peer !== undefined) return peer;
    if (this.byValue.size >= MAX_CACHED_PEERS) this.byValue.clear();
    peer = decodePeerMetadata(value);
    this.byValue.set(value, peer);
    return peer;
  }
}
