import type { IncomingHttpHeaders } from 'node:http';
import type { HttpStream } from '../http-stream.js';
import { applyToRequest } from '../routing/header-operations.js';

// The request headers as they go upstream: hop-by-hop headers removed, the route's then the
// destination's header operations applied, and Host set to the authority (rewritten or as
// addressed: absolute-form requests carry it in the URL).

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'proxy-authorization'];

export function prepareUpstreamHeaders(s: HttpStream): IncomingHttpHeaders {
  const h = s.headers;
  for (let i = 0; i < HOP_BY_HOP.length; i++) if (h[HOP_BY_HOP[i]] !== undefined) delete h[HOP_BY_HOP[i]];
  if (h.te !== undefined && h.te !== 'trailers') delete h.te;
  const r = s.route!;
  const d = s.destination!;
  if (r.requestOps) applyToRequest(h, r.requestOps);
  if (d.requestOps) applyToRequest(h, d.requestOps);
  h.host = r.authorityRewrite ?? d.requestOps?.authority ?? s.authority;
  return h;
}

/** Whether the request carries a body to stream upstream. */
export function hasRequestBody(h: IncomingHttpHeaders): boolean {
  const cl = h['content-length'];
  return (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined;
}
