import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AckMessage, ProxySnapshot, PushMessage } from '../api/snapshot.js';
import { Backoff } from './backoff.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { ApplyResult } from './sidecar.js';

// The proxy's side of the control-plane protocol (src/api/snapshot.ts): a long-lived
// `GET /xds/v1/stream?node=ID` of NDJSON pushes; each push is applied and answered with
// `POST /xds/v1/ack` (ACK, or NACK with the error). When the control plane goes away the
// proxy keeps serving its last good snapshot and reconnects with capped exponential backoff;
// on reconnect the control plane sends the current snapshot first, which resyncs the proxy.
// ACK and NACK both carry the version and nonce of the push they answer (a NACK names the
// version it rejected; the proxy keeps running the version it ACKed last).

export interface SnapshotTarget {
  applySnapshot(s: ProxySnapshot): ApplyResult;
  readonly snapshot: ProxySnapshot | null;
}

export interface XdsClientOptions {
  baseUrl: string; // e.g. http://127.0.0.1:15010
  nodeId: string;
  target: SnapshotTarget;
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (message: string) => void;
}

export interface XdsStatus {
  connected: boolean;
  acceptedVersion: string | null;
  lastNonce: string | null;
  lastNack: string | null;
  connects: number;
  acks: number;
  nacks: number;
}

export class XdsClient {
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly log: (m: string) => void;
  private req: ClientRequest | null = null;
  private timer: TimerHandle | null = null;
  private running = false;
  private generation = 0;
  private readonly state: XdsStatus = { connected: false, acceptedVersion: null, lastNonce: null, lastNack: null, connects: 0, acks: 0, nacks: 0 };

  constructor(private readonly opts: XdsClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff(opts.initialBackoffMs ?? 100, opts.maxBackoffMs ?? 2_000);
    this.log = opts.log ?? (() => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.req?.destroy();
    this.req = null;
    this.state.connected = false;
  }

  status(): XdsStatus {
    return { ...this.state };
  }

  private connect(): void {
    const gen = ++this.generation;
    const url = new URL(`/xds/v1/stream?node=${encodeURIComponent(this.opts.nodeId)}`, this.opts.baseUrl);
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'application/x-ndjson' } });
    this.req = req;
    req.on('response', (res) => this.onResponse(gen, res));
    req.on('error', (err) => this.lost(gen, err.message));
    req.on('socket', (sock) => sock.setKeepAlive(true, 5_000));
    req.end();
  }

  private onResponse(gen: number, res: IncomingMessage): void {
    if (gen !== this.generation) return void res.destroy();
    if (res.statusCode !== 200) {
      res.resume();
      return this.lost(gen, `stream answered ${res.statusCode}`);
    }
    this.state.connected = true;
    this.state.connects++;
    this.log(`connected to ${this.opts.baseUrl}`);
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line && gen === this.generation) this.onLine(line);
      }
    });
    res.on('end', () => this.lost(gen, 'stream ended'));
    res.on('close', () => this.lost(gen, 'stream closed'));
    res.on('error', (err) => this.lost(gen, err.message));
  }

  private onLine(line: string): void {
    let msg: PushMessage;
    try {
      msg = JSON.parse(line) as PushMessage;
    } catch {
      this.log('control plane sent a line that is not JSON; ignored');
      return;
    }
    if (msg?.type !== 'snapshot' || typeof msg.nonce !== 'string') {
      this.log(`ignored message of type ${String(msg?.type)}`);
      return;
    }
    this.backoff.reset(); // a push arrived: the connection is healthy
    this.state.lastNonce = msg.nonce;
    const result = this.opts.target.applySnapshot(msg.snapshot);
    const ack: AckMessage = { node: this.opts.nodeId, version: '', nonce: msg.nonce };
    if (result.ok) {
      this.state.acceptedVersion = msg.snapshot.version;
      this.state.acks++;
      ack.version = msg.snapshot.version;
    } else {
      this.state.acceptedVersion = this.opts.target.snapshot?.version ?? null;
      this.state.lastNack = result.error;
      this.state.nacks++;
      ack.version = typeof msg.snapshot?.version === 'string' ? msg.snapshot.version : '';
      ack.error = result.error;
    }
    this.postAck(ack);
  }

  private postAck(ack: AckMessage): void {
    const body = JSON.stringify(ack);
    const req = request(new URL('/xds/v1/ack', this.opts.baseUrl), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => res.resume());
    req.on('error', (err) => this.log(`ack for nonce ${ack.nonce} not delivered: ${err.message}`));
    req.end(body);
  }

  /** The stream is gone (or never came): keep serving, try again after the backoff. */
  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || !this.running) return;
    this.generation++;
    this.req?.destroy();
    this.req = null;
    if (this.state.connected) this.log(`control plane stream lost: ${reason}`);
    this.state.connected = false;
    const delay = this.backoff.next();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.running) this.connect();
    }, delay);
  }
}
