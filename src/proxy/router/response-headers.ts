import type { HttpStream } from '../http-stream.js';
import { applyToResponse } from '../routing/header-operations.js';
import { runResponseFilters } from '../filters/filter-chain.js';

// Upstream response headers as they go downstream: hop-by-hop headers dropped (node:http frames
// the response itself), then the route's and the destination's header operations, then a
// consistent-hash cookie, then the response filters.

export function downstreamResponseHeaders(s: HttpStream, raw: Array<Buffer | string>): string[] {
  let out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i];
    const name = typeof n === 'string' ? n : n.toString('latin1');
    if (isHopByHop(name)) continue;
    const v = raw[i + 1];
    const value = typeof v === 'string' ? v : v.toString('latin1');
    if (name.length === 14 && name.toLowerCase() === 'content-length') s.responseContentLength = Number(value);
    out.push(name, value);
  }
  const r = s.route;
  if (r?.responseOps) out = applyToResponse(out, r.responseOps);
  const d = s.destination;
  if (d?.responseOps) out = applyToResponse(out, d.responseOps);
  if (s.setCookie) out.push('set-cookie', s.setCookie);
  runResponseFilters(s, out);
  return out;
}

/** Connection-level headers (RFC 9110 7.6.1) that a proxy must not forward. Checked by length first: most names pass with one comparison. */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te';
    case 7:
      return name.toLowerCase() === 'upgrade' || name.toLowerCase() === 'trailer';
    case 10: {
      const n = name.toLowerCase();
      return n === 'connection' || n === 'keep-alive';
    }
    case 16:
      return name.toLowerCase() === 'proxy-connection';
    case 17:
      return name.toLowerCase() === 'transfer-encoding';
    default:
      return false;
  }
}
