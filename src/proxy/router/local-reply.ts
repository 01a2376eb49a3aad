import { runResponseFilters } from '../filters/filter-chain.js';
import type { HttpStream } from '../http-stream.js';
import { FLAGS_HEADER, ResponseFlag, SERVER_NAME, type LocalReplySpec } from '../response-flags.js';

// Replies the proxy makes itself (Envoy's sendLocalReply): no route, no cluster, no healthy
// upstream, connect failure, and later fault aborts and authz denials. Each records its flag
// and details on the stream, and shows the flag in `x-meshmedic-flags`. An error reply to a
// gRPC request is a gRPC status as Envoy sends it: HTTP 200, `grpc-status` mapped from the
// HTTP status (503: UNAVAILABLE), `grpc-message` the body; the stream keeps the HTTP status.

export function sendLocalReply(s: HttpStream, spec: LocalReplySpec, extraHeaders?: string[]): void {
  s.status = spec.status;
  s.responseFlag = spec.flag;
  s.details = spec.details;
  const res = s.res;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const grpc = spec.status >= 400 && isGrpc(s);
  const body = grpc ? '' : spec.body;
  const headers = ['server', SERVER_NAME, 'content-length', String(Buffer.byteLength(body))];
  if (grpc) headers.push('content-type', 'application/grpc', 'grpc-status', String(grpcStatusOf(spec.status)), 'grpc-message', encodeURIComponent(spec.body));
  else if (body) headers.push('content-type', 'text/plain');
  if (spec.flag !== ResponseFlag.None) headers.push(FLAGS_HEADER, spec.flag);
  if (extraHeaders) for (const h of extraHeaders) headers.push(h);
  runResponseFilters(s, headers);
  res.writeHead(grpc ? 200 : spec.status, headers);
  res.end(body);
}

function isGrpc(s: HttpStream): boolean {
  const ct = s.headers['content-type'];
  return ct !== undefined && ct.startsWith('application/grpc');
}

/** Envoy's Grpc::Utility::httpToGrpcStatus (the gRPC HTTP-to-status mapping). */
export function grpcStatusOf(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}
