import { runResponseFilters } from '../filters/filter-chain.js';
import type { HttpStream } from '../http-stream.js';
import { FLAGS_HEADER, ResponseFlag, SERVER_NAME, type LocalReplySpec } from '../response-flags.js';

// Replies the proxy makes itself (Envoy's sendLocalReply): no route, no cluster, no healthy
// upstream, connect failure, and later fault aborts and authz denials. Each records its flag
// and details on the stream, and shows the flag in `x-meshmedic-flags`.

export function sendLocalReply(s: HttpStream, spec: LocalReplySpec, extraHeaders?: string[]): void {
  s.status = spec.status;
  s.responseFlag = spec.flag;
  s.details = spec.details;
  const res = s.res;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = spec.body;
  const headers = ['server', SERVER_NAME, 'content-length', String(Buffer.byteLength(body))];
  if (body) headers.push('content-type', 'text/plain');
  if (spec.flag !== ResponseFlag.None) headers.push(FLAGS_HEADER, spec.flag);
  if (extraHeaders) for (const h of extraHeaders) headers.push(h);
  runResponseFilters(s, headers);
  res.writeHead(spec.status, headers);
  res.end(body);
}
