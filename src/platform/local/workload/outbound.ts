import { connect } from 'node:net';
import { Pool } from 'undici';
import type { SpecCall } from './spec.js';

// How a synthetic application reaches other services: through its sidecar. HTTP calls go to
// the sidecar's outbound listener as an HTTP proxy would be used (absolute-form request line
// `GET http://reviews:9080/reviews/0`, Host `reviews:9080`) over kept-alive connections;
// TCP calls connect to the sidecar's address at the service port (its outbound TCP listener).

/** What one attempt of a call gave: a response, or no response at all. */
export interface CallOutcome {
  status: number; // 0 when there was no response
  grpcStatus?: string;
  body?: unknown; // parsed JSON when the answer was JSON, else text
  error?: string;
  timedOut?: boolean;
}

export class Outbound {
  private readonly pool: Pool;
  private readonly proxyHost: string;

  constructor(proxyUrl: string) {
    const url = new URL(proxyUrl);
    this.proxyHost = url.hostname;
    this.pool = new Pool(url.origin, { connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  async call(c: SpecCall, headers: Record<string, string>, from: string): Promise<CallOutcome> {
    return c.protocol === 'tcp' ? this.tcp(c, from) : this.http(c, headers);
  }

  private async http(c: SpecCall, forwarded: Record<string, string>): Promise<CallOutcome> {
    const headers: Record<string, string> = { ...forwarded, host: c.authority, accept: 'application/json' };
    const body = c.size > 0 ? Buffer.alloc(c.size, 0x78) : undefined;
    if (body) headers['content-type'] = 'application/octet-stream';
    // A call to a gRPC port says so (content-type), as a gRPC client does: the sidecars then
    // report it as gRPC, its outcome in grpc_response_status (the answer is 200 + grpc-status).
    if (c.protocol === 'grpc') headers['content-type'] = 'application/grpc';
    const signal = c.timeoutMs !== undefined ? AbortSignal.timeout(c.timeoutMs) : undefined;
    try {
      const res = await this.pool.request({ path: `http://${c.authority}${c.path}`, method: c.method as 'GET', headers, body, signal });
      const text = await res.body.text();
      const grpc = res.headers['grpc-status'];
      const out: CallOutcome = { status: res.statusCode, body: parseBody(text, res.headers['content-type']) };
      if (grpc !== undefined) out.grpcStatus = String(grpc);
      if (!succeeded(out)) out.error = grpc !== undefined && grpc !== '0' ? `grpc-status ${String(grpc)}` : `status ${res.statusCode}`;
      return out;
    } catch (e) {
      if (signal?.aborted) return { status: 0, error: `no answer within ${c.timeoutMs}ms`, timedOut: true };
      return { status: 0, error: (e as Error).message };
    }
  }

  /** One request per connection: a JSON line out, a JSON line back. */
  private tcp(c: SpecCall, from: string): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.proxyHost, port: c.port });
      let buf = '';
      let done = false;
      const finish = (o: CallOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(o);
      };
      const timer = c.timeoutMs !== undefined ? setTimeout(() => finish({ status: 0, error: `no answer within ${c.timeoutMs}ms`, timedOut: true }), c.timeoutMs) : undefined;
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${JSON.stringify({ from, padding: 'x'.repeat(c.size) })}\n`));
      socket.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) finish({ status: 200, body: parseBody(buf.slice(0, nl), 'application/json') });
      });
      socket.on('error', (e) => finish({ status: 0, error: e.message }));
      socket.on('close', () => finish({ status: 0, error: 'connection closed without an answer' }));
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** A call succeeded when it answered 2xx and, for gRPC-style answers, grpc-status 0. */
export function succeeded(o: CallOutcome): boolean {
  return o.status >= 200 && o.status < 300 && (o.grpcStatus === undefined || o.grpcStatus === '0');
}

function parseBody(text: string, contentType: unknown): unknown {
  if (typeof contentType === 'string' && contentType.includes('json')) {
    try {
      const v = JSON.parse(text) as unknown;
      // The callee's padding stands for its payload size; the caller's answer has its own.
      if (v && typeof v === 'object' && 'padding' in v) delete (v as Record<string, unknown>).padding;
      return v;
    } catch {
      /* fall through: keep the text */
    }
  }
  return text.length > 1024 ? `${text.slice(0, 1024)}...` : text;
}
