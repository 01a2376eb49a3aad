import { createServer, request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Cluster, ClusterLoadAssignment, Endpoint, LbPolicy, ProxyNode, ProxySnapshot } from '../../src/api/snapshot.js';
import { Continue, type HttpFilterFactory } from '../../src/proxy/filters/http-filter.js';
import type { HttpStream } from '../../src/proxy/http-stream.js';

// Test peers for the sidecar: upstream HTTP servers that say who answered and what they
// received, a client that speaks to the proxy as HTTP_PROXY clients do, and snapshot builders.

export interface Received {
  upstream: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  remoteAddress: string;
}

export interface Upstream {
  name: string;
  server: Server;
  received: Received[];
  /** Requests to paths starting with /hang wait here until released. */
  held: Array<() => void>;
  /** Resolves with the next request this upstream receives. */
  next(): Promise<Received>;
  close(): Promise<void>;
}

/**
 * An upstream that answers `{upstream, method, url, headers, body}` as JSON. `/hang...` holds the
 * response until `held[i]()` is called; `/reset-mid` sends headers and part of a body, then
 * resets the connection; `/status/NNN` answers with that status.
 */
export async function startUpstream(name: string, where: { address: string; port: number } | { socketPath: string }): Promise<Upstream> {
  const received: Received[] = [];
  const held: Array<() => void> = [];
  let waiters: Array<(r: Received) => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { upstream: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), remoteAddress: req.socket.remoteAddress ?? '' };
      received.push(r);
      const w = waiters;
      waiters = [];
      for (const f of w) f(r);
      const answer = () => {
        const status = /^\/status\/(\d{3})/.exec(r.url)?.[1];
        const body = JSON.stringify(r);
        res.writeHead(status ? Number(status) : 200, { 'content-type': 'application/json', 'x-upstream': name, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (r.url.startsWith('/big/')) {
        // /big/<bytes>: a large response, written in 64 KiB chunks with backpressure.
        let left = Number(r.url.slice(5));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name, 'x-received-bytes': String(r.body.length) });
        const chunk = Buffer.alloc(65536, 120);
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (r.url.startsWith('/reset-mid')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('partial');
        setImmediate(() => res.socket?.destroy());
      } else if (r.url.startsWith('/hang')) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socketPath' in where) server.listen(where.socketPath, resolve);
    else server.listen(where.port, where.address, resolve);
  });
  return {
    name,
    server,
    received,
    held,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        for (const h of held.splice(0)) h();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ProxyResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The upstream that answered (from the echo body), or undefined. */
  upstream: string | undefined;
  echo: Received | undefined;
  flag: string | undefined;
}

export interface ProxyRequest {
  proxy: { address: string; port: number };
  /** Absolute form (`http://reviews:9080/x`) or a path (then give `headers.host`). */
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  localAddress?: string;
  agent?: Agent | false;
}

/** One request through the proxy, as an HTTP_PROXY client sends it. */
export function viaProxy(r: ProxyRequest): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    if (!headers.host && r.url.startsWith('http://')) headers.host = new URL(r.url).host;
    const req = request({
      host: r.proxy.address,
      port: r.proxy.port,
      method: r.method ?? 'GET',
      path: r.url,
      headers,
      localAddress: r.localAddress,
      agent: r.agent ?? false,
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        let echo: Received | undefined;
        try {
          echo = String(res.headers['content-type'] ?? '').includes('json') ? (JSON.parse(body) as Received) : undefined;
        } catch {
          echo = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, upstream: echo?.upstream, echo, flag: res.headers['x-meshmedic-flags'] as string | undefined });
      });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

// ------------------------------------------------------------------ snapshot builders

export function testNode(address: string, labels: Record<string, string> = { app: 'productpage', version: 'v1' }, namespace = 'bookinfo'): ProxyNode {
  return { id: `test-0.${namespace}`, instance: 'test-0', workload: 'test', namespace, serviceAccount: 'default', labels, address };
}

export function cluster(name: string, lbPolicy: LbPolicy = 'ROUND_ROBIN', extra: Partial<Cluster> = {}): Cluster {
  return { name, direction: name.startsWith('inbound') ? 'inbound' : 'outbound', port: 8080, protocol: 'http1', lbPolicy, ...extra };
}

export function endpoint(address: string, port: number, extra: Partial<Endpoint> = {}): Endpoint {
  return { address, port, instance: `${address}:${port}`, labels: {}, healthy: true, ...extra };
}

export function assignment(clusterName: string, endpoints: Endpoint[]): ClusterLoadAssignment {
  return { clusterName, endpoints };
}

/** An outbound HTTP listener on `address:15001` with route config `outbound_http`. */
export function outboundSnapshot(version: string, node: ProxyNode, parts: Pick<ProxySnapshot, 'routes' | 'clusters' | 'endpoints'> & { listeners?: ProxySnapshot['listeners'] }): ProxySnapshot {
  return {
    version,
    node,
    listeners: parts.listeners ?? [{ name: 'outbound_http_15001', direction: 'outbound', address: node.address, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' }],
    routes: parts.routes,
    clusters: parts.clusters,
    endpoints: parts.endpoints,
  };
}

export interface Done {
  path: string;
  status: number;
  flag: string;
  details: string;
}

/** Records every completed stream; `next()` resolves with the next one. */
export function recorder(): { factory: HttpFilterFactory; done: Done[]; next(): Promise<Done> } {
  const done: Done[] = [];
  let waiters: Array<(d: Done) => void> = [];
  const factory: HttpFilterFactory = () => ({
    name: 'test-recorder',
    onRequest: () => Continue,
    onComplete(s: HttpStream) {
      const d = { path: s.path, status: s.status, flag: s.responseFlag, details: s.details };
      done.push(d);
      const w = waiters;
      waiters = [];
      for (const f of w) f(d);
    },
  });
  return { factory, done, next: () => new Promise((resolve) => waiters.push(resolve)) };
}
