import type { Socket } from 'node:net';
import type { HttpStream } from '../../proxy/http-stream.js';

// Request and response sizes as Istio's stats filter reports them: the bytes of the downstream
// connection's meter (headers and body, on the wire). An HTTP/1.1 connection carries one request
// at a time, so a request's bytes are what the socket read and wrote since the previous request
// on it ended: two numbers kept on the socket, no per-request allocation. HTTP/2 streams share
// their connection's socket, so for them the sizes are the bodies' declared lengths (0 when
// unknown): an approximation, said in docs/telemetry.md.

const MARK = Symbol('meshmedic.telemetry.bytes');

interface SocketMark {
  read: number;
  written: number;
}

type MarkedSocket = Socket & { [MARK]?: SocketMark };

export interface StreamBytes {
  received: number;
  sent: number;
}

// Every completion hook of a stream runs in one synchronous pass, so the metrics and the access
// log share one measurement through this memo (it holds one stream at a time).
let lastStream: HttpStream | null = null;
const last: StreamBytes = { received: 0, sent: 0 };

/** The stream's bytes received from and sent to the downstream; call once the stream is complete. */
export function streamBytes(s: HttpStream): Readonly<StreamBytes> {
  if (s === lastStream) return last;
  lastStream = s;
  if (s.h2) {
    const cl = s.req.headers['content-length'];
    last.received = cl === undefined ? 0 : Number(cl) || 0;
    last.sent = s.responseContentLength > 0 ? s.responseContentLength : 0;
    return last;
  }
  const socket = s.req.socket as MarkedSocket | null;
  if (!socket) {
    last.received = last.sent = 0;
    return last;
  }
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  let mark = socket[MARK];
  if (mark === undefined) socket[MARK] = mark = { read: 0, written: 0 };
  last.received = read - mark.read;
  last.sent = written - mark.written;
  mark.read = read;
  mark.written = written;
  return last;
}
