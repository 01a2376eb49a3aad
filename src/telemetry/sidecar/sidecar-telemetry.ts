import type { ProxyNode } from '../../api/snapshot.js';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import { AccessLogWriter } from './access-log-writer.js';
import { IstioMetricRegistry } from './metric-registry.js';
import { encodePeerHeaders, PeerCache, type PeerHeaders } from './peer-metadata.js';
import { nodeIdentity, type WorkloadIdentity } from './workload-identity.js';

// The telemetry state of one sidecar, shared by its listeners' filters and its stats endpoints:
// the metric series, the decoded peers, this node's own identity and peer headers, and the access
// log writer. Found from the sidecar (its ProxyContext) so the filters, the TCP listener and the
// :15090 server reach the same one without the sidecar knowing about telemetry.

export class SidecarTelemetry {
  readonly metrics = new IstioMetricRegistry();
  readonly peers = new PeerCache();
  readonly accessLog = new AccessLogWriter();
  private node: ProxyNode | null = null;
  private identity: WorkloadIdentity | null = null;
  private headers: PeerHeaders | null = null;

  /** This node's identity (recomputed only when the snapshot names another node). */
  self(node: ProxyNode): WorkloadIdentity {
    this.refresh(node);
    return this.identity!;
  }

  /** The peer metadata headers this node sends. */
  peerHeaders(node: ProxyNode): PeerHeaders {
    this.refresh(node);
    return this.headers!;
  }

  private refresh(node: ProxyNode): void {
    if (this.node !== null && (this.node === node || JSON.stringify(this.node) === JSON.stringify(node))) return;
    this.node = node;
    this.identity = nodeIdentity(node);
    this.headers = encodePeerHeaders(node);
  }
}

const bySidecar = new WeakMap<ProxyContext, SidecarTelemetry>();

export function telemetryOf(ctx: ProxyContext): SidecarTelemetry {
  let t = bySidecar.get(ctx);
  if (t === undefined) bySidecar.set(ctx, (t = new SidecarTelemetry()));
  return t;
}
