import type { HttpStream } from '../../proxy/http-stream.js';
import { Continue, type FilterStatus, type HttpFilter, type HttpFilterFactory } from '../../proxy/filters/http-filter.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, type PeerCache, type PeerHeaders } from './peer-metadata.js';
import { telemetryOf } from './sidecar-telemetry.js';

// Istio's metadata exchange filter, first in the chain so every outcome (fault aborts included)
// knows its peer: outbound, this sidecar's peer headers go with each request upstream (set, not
// added: an application cannot pose as another workload through this sidecar); inbound, the
// caller's are read into `stream.peer` and removed before the application gets the request.
// It runs whether or not metrics are on, as Istio's does, so a caller's choice to record nothing
// does not leave its callees' destination reports without a source.

class OutboundPeerMetadata implements HttpFilter {
  readonly name = 'istio.metadata_exchange';
  constructor(private readonly own: PeerHeaders) {}

  onRequest(s: HttpStream): FilterStatus {
    const h = s.headers;
    h[PEER_METADATA_ID_HEADER] = this.own.id;
    h[PEER_METADATA_HEADER] = this.own.metadata;
    return Continue;
  }
}

class InboundPeerMetadata implements HttpFilter {
  readonly name = 'istio.metadata_exchange';
  constructor(private readonly peers: PeerCache) {}

  onRequest(s: HttpStream): FilterStatus {
    const h = s.headers;
    const v = h[PEER_METADATA_HEADER];
    if (v !== undefined) {
      s.peer = this.peers.lookup(typeof v === 'string' ? v : String(v[0] ?? ''));
      delete h[PEER_METADATA_HEADER];
    }
    if (h[PEER_METADATA_ID_HEADER] !== undefined) delete h[PEER_METADATA_ID_HEADER];
    return Continue;
  }
}

export const peerMetadataFilter: HttpFilterFactory = (listener, ctx) => {
  const t = telemetryOf(ctx);
  if (listener.direction === 'inbound') return new InboundPeerMetadata(t.peers);
  const node = ctx.current?.snapshot.node;
  return node ? new OutboundPeerMetadata(t.peerHeaders(node)) : null;
};
