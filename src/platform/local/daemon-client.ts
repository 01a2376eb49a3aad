import { request } from 'node:http';
import { daemonSocketPath } from './daemon-api.js';

// Calls the mesh daemon's control API (daemon-api.ts) over its unix socket: used by the CLI
// (`meshmedic chaos`) and by tests.

export class DaemonCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DaemonCallError';
  }
}

export function callDaemon<T>(stateRoot: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath: daemonSocketPath(stateRoot), method, path, timeout: timeoutMs, headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = raw ? JSON.parse(raw) : undefined;
          } catch {
            return reject(new DaemonCallError(res.statusCode ?? 0, 'E_BAD_ANSWER', `the mesh daemon answered something that is not JSON: ${raw.slice(0, 200)}`));
          }
          if ((res.statusCode ?? 500) >= 400) return reject(new DaemonCallError(res.statusCode ?? 500, json?.error?.code ?? 'E_HTTP', json?.error?.message ?? `HTTP ${res.statusCode}`));
          resolve(json as T);
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`the mesh daemon did not answer within ${timeoutMs / 1000} s`)));
    req.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new DaemonCallError(0, 'E_NO_MESH', `no mesh daemon answers at ${daemonSocketPath(stateRoot)}; start the mesh with: meshmedic up -f TOPOLOGY`) : e),
    );
    req.end(text);
  });
}
