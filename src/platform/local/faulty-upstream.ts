// A programmable upstream for resilience tests and chaos: each request's fate (status, delay,
// reset before or after headers, close, body size, gRPC status) is chosen by request headers,
// or by a script that overrides them (fail the next N, fail X% with a seed, reset the next N,
// delay everything). Delays go through the injected Clock so tests fire them instead of
// sleeping. Every answer names the upstream (`x-upstream-name`) so retry tests can tell hosts apart.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../../proxy/clock.js';
import { seededRandom, type RandomSource } from '../../util/seeded-random.js';

export type ResetWhen = 'before-headers' | 'after-headers';

/** Overrides the request headers while set; `script({})` goes back to header-driven behaviour. */
export interface UpstreamScript {
  failNext?: number; // the next n requests answer `status`, then normal again
  failPercent?: number; // 0..100: this share of requests answers `status`, chosen by a seeded generator
  status?: number; // status for failNext/failPercent (default 503)
  seed?: number; // seed for failPercent (default 1): same seed, same requests fail
  resetNext?: number; // the next n requests are reset
  when?: ResetWhen; // when resetNext resets (default before-headers)
  delayMs?: number; // every request waits this long (on the clock) before its answer
}

export interface UpstreamHit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  at: number; // clock.now() on arrival
}

export interface FaultyUpstreamOptions {
  host: string;
  port?: number; // default 0: any free port
  name?: string; // sent as `x-upstream-name` (default `host:port`)
  clock?: Clock; // default real timers
}

export interface FaultyUpstream {
  readonly url: string;
  readonly address: string;
  readonly port: number;
  readonly name: string;
  readonly requests: number; // requests received, including reset ones
  readonly connections: number; // connections accepted
  readonly openConnections: number; // connections open now
  nextConnectionClose(): Promise<void>; // resolves when a connection closes (either side)
  readonly hits: UpstreamHit[];
  script(s: UpstreamScript): void;
  close(): Promise<void>;
}

/** What one request will get, after headers and script are combined. */
interface Plan {
  status: number;
  delayMs: number;
  reset?: ResetWhen;
  close: boolean;
  bodyBytes?: number;
  grpcStatus?: number;
}

class BadKnob extends Error {}

const DEFAULT_FAIL_STATUS = 503;

export async function startFaultyUpstream(opts: FaultyUpstreamOptions): Promise<FaultyUpstream> {
  const clock = opts.clock ?? systemClock;
  const hits: UpstreamHit[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<TimerHandle>();
  let current: ActiveScript = activate({});
  let name = opts.name ?? '';

  const server = createServer((req, res) => {
    hits.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, at: clock.now() });
    const requestNo = hits.length;
    let plan: Plan;
    try {
      plan = current.apply(planFromHeaders(req.headers));
    } catch (e) {
      if (!(e instanceof BadKnob)) throw e;
      res.writeHead(400, { 'x-upstream-name': name, 'x-upstream-error': e.message, 'content-type': 'text/plain' });
      res.end(`${e.message}\n`);
      return;
    }
    // Read the request body first so the answer never races the upload.
    req.resume();
    const answer = () => (req.readableEnded ? respond(req, res, plan, name, requestNo) : req.once('end', () => respond(req, res, plan, name, requestNo)));
    if (plan.delayMs <= 0) return answer();
    const timer = clock.setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) answer();
    }, plan.delayMs);
    timers.add(timer);
    res.once('close', () => {
      clock.clearTimeout(timer);
      timers.delete(timer);
    });
  });
  let connections = 0;
  let closeWaiters: Array<() => void> = [];
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.once('close', () => {
      sockets.delete(s);
      const w = closeWaiters;
      closeWaiters = [];
      for (const f of w) f();
    });
  });
  server.keepAliveTimeout = 60_000; // connection reuse is part of what the proxy is tested on

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!name) name = `${opts.host}:${port}`;

  return {
    url: `http://${opts.host}:${port}`,
    address: opts.host,
    port,
    name,
    get requests() {
      return hits.length;
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    nextConnectionClose() {
      return new Promise<void>((r) => closeWaiters.push(r));
    },
    hits,
    script(s: UpstreamScript) {
      current = activate(s);
    },
    close() {
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A script with its own counters and random stream; replaced whole by the next `script()`. */
interface ActiveScript {
  apply(fromHeaders: Plan): Plan;
}

function activate(s: UpstreamScript): ActiveScript {
  validateScript(s);
  let failLeft = s.failNext ?? 0;
  let resetLeft = s.resetNext ?? 0;
  const failStatus = s.status ?? DEFAULT_FAIL_STATUS;
  const random: RandomSource | undefined = s.failPercent !== undefined ? seededRandom(s.seed ?? 1) : undefined;
  return {
    apply(plan) {
      const out = { ...plan };
      if (s.delayMs !== undefined) out.delayMs = s.delayMs;
      if (resetLeft > 0) {
        resetLeft--;
        out.reset = s.when ?? 'before-headers';
        return out;
      }
      if (failLeft > 0) {
        failLeft--;
        return { ...out, status: failStatus, grpcStatus: undefined };
      }
      // Draw on every request, so which requests fail does not depend on the other knobs.
      if (random && random() * 100 < s.failPercent!) return { ...out, status: failStatus, grpcStatus: undefined };
      return out;
    },
  };
}

function validateScript(s: UpstreamScript): void {
  const count = (v: number | undefined, field: string) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new RangeError(`script.${field} must be a whole number >= 0, got ${v}`);
  };
  count(s.failNext, 'failNext');
  count(s.resetNext, 'resetNext');
  count(s.delayMs, 'delayMs');
  count(s.seed, 'seed');
  if (s.failPercent !== undefined && !(s.failPercent >= 0 && s.failPercent <= 100)) throw new RangeError(`script.failPercent must be within 0..100, got ${s.failPercent}`);
  if (s.status !== undefined && !(Number.isInteger(s.status) && s.status >= 100 && s.status <= 599)) throw new RangeError(`script.status must be an HTTP status, got ${s.status}`);
  if (s.when !== undefined && s.when !== 'before-headers' && s.when !== 'after-headers') throw new RangeError(`script.when must be before-headers or after-headers, got ${s.when}`);
}

function planFromHeaders(h: IncomingHttpHeaders): Plan {
  const reset = one(h, 'x-upstream-reset');
  if (reset !== undefined && reset !== 'before-headers' && reset !== 'after-headers') throw new BadKnob(`x-upstream-reset must be before-headers or after-headers, got ${reset}`);
  const close = one(h, 'x-upstream-close');
  if (close !== undefined && close !== 'true' && close !== 'false') throw new BadKnob(`x-upstream-close must be true or false, got ${close}`);
  const status = wholeNumber(h, 'x-upstream-status');
  if (status !== undefined && (status < 200 || status > 599)) throw new BadKnob(`x-upstream-status must be within 200..599, got ${status}`);
  return {
    status: status ?? 200,
    delayMs: wholeNumber(h, 'x-upstream-delay-ms') ?? 0,
    reset,
    close: close === 'true',
    bodyBytes: wholeNumber(h, 'x-upstream-body-bytes'),
    grpcStatus: wholeNumber(h, 'x-upstream-grpc-status'),
  };
}

function one(h: IncomingHttpHeaders, key: string): string | undefined {
  const v = h[key];
  return Array.isArray(v) ? v[0] : v;
}

function wholeNumber(h: IncomingHttpHeaders, key: string): number | undefined {
  const v = one(h, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new BadKnob(`${key} must be a whole number, got ${v}`);
  return Number(v);
}

function respond(req: IncomingMessage, res: ServerResponse, plan: Plan, name: string, requestNo: number): void {
  if (plan.reset === 'before-headers') {
    // No byte of an answer: the client sees the connection reset (Envoy: connect/reset failure).
    res.socket?.resetAndDestroy();
    return;
  }
  const status = plan.grpcStatus !== undefined ? 200 : plan.status;
  const bodiless = status === 204 || status === 304; // HTTP forbids a body (and its length) here
  const body = bodiless ? Buffer.alloc(0) : bodyFor(plan, name, requestNo, req);
  const headers: Record<string, string | number> = { 'x-upstream-name': name, 'x-upstream-request': requestNo };
  if (!bodiless) headers['content-length'] = body.length;
  if (plan.grpcStatus !== undefined) {
    // A trailers-only gRPC answer: HTTP 200, grpc-status in the headers, no message.
    headers['content-type'] = 'application/grpc';
    headers['grpc-status'] = plan.grpcStatus;
    headers['grpc-message'] = `from ${name}`;
  } else {
    headers['content-type'] = plan.bodyBytes !== undefined ? 'application/octet-stream' : 'application/json';
  }
  if (plan.close) headers.connection = 'close'; // node closes the connection after this answer
  res.writeHead(status, headers);
  if (plan.reset === 'after-headers') {
    // Headers and part of the promised body, then a reset: the client gets a truncated body.
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.resetAndDestroy());
    return;
  }
  res.end(body);
}

function bodyFor(plan: Plan, name: string, requestNo: number, req: IncomingMessage): Buffer {
  if (plan.grpcStatus !== undefined) return Buffer.alloc(0);
  if (plan.bodyBytes !== undefined) return Buffer.alloc(plan.bodyBytes, 0x61); // 'a' repeated
  const text = JSON.stringify({ upstream: name, request: requestNo, method: req.method, path: req.url, status: plan.status });
  // A reset after headers must leave something to truncate.
  return Buffer.from(`${text}\n`);
}
