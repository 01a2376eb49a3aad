import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AckMessage, PushMessage } from '../../src/api/snapshot.js';

// A minimal xDS client for tests: reads the NDJSON stream line by line (skipping keep-alive
// empty lines) and posts ACK/NACKs, over real sockets.

export interface StreamClient {
  status: number;
  next(): Promise<PushMessage>;
  /** Messages received and not yet taken with next(). */
  pending(): number;
  close(): void;
}

export function openStream(baseUrl: string, node: string): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(`${baseUrl}/xds/v1/stream?node=${encodeURIComponent(node)}`, { method: 'GET' });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const queue: PushMessage[] = [];
      const waiters: Array<{ resolve: (m: PushMessage) => void; reject: (e: Error) => void }> = [];
      let buf = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as PushMessage;
          const w = waiters.shift();
          if (w) w.resolve(msg);
          else queue.push(msg);
        }
      });
      const end = () => {
        ended = true;
        for (const w of waiters.splice(0)) w.reject(new Error('stream ended'));
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve({
        status: res.statusCode ?? 0,
        next: () => {
          const m = queue.shift();
          if (m) return Promise.resolve(m);
          if (ended) return Promise.reject(new Error('stream ended'));
          return new Promise((resolveMsg, rejectMsg) => waiters.push({ resolve: resolveMsg, reject: rejectMsg }));
        },
        pending: () => queue.length,
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.end();
  });
}

export async function postAck(baseUrl: string, ack: AckMessage): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}/xds/v1/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ack) });
  return { status: res.status, body: await res.json() };
}

/** Waits for a condition that an event on the other side of a socket makes true (no fixed sleep decides anything). */
export async function until(what: string, cond: () => Promise<boolean> | boolean, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting until ${what}`);
}
