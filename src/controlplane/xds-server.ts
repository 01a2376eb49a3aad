import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AckMessage, ProxySnapshot, PushMessage } from '../api/snapshot.js';
import { HttpError, readJson, sendError, sendJson } from './http-json.js';

// The push transport of src/api/snapshot.ts: `GET /xds/v1/stream?node=ID` is a long-lived
// NDJSON response (first line: the node's current snapshot; then one line per change; empty
// lines as keep-alive), and `POST /xds/v1/ack` answers a push with ACK or NACK. Per node it
// tracks what was sent and what was answered, for proxy-status.

export type SyncStatus = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT_SENT' | 'DISCONNECTED';

export interface NodeSyncState {
  node: string;
  connected: boolean;
  streams: number;
  sent?: { version: string; nonce: string; at: number };
  acked?: { version: string; nonce: string; at: number };
  lastNack?: { version: string; nonce: string; error: string; at: number };
  status: SyncStatus;
}

interface Stream {
  res: ServerResponse;
  version?: string; // last version written on this stream
}

interface NodeRecord {
  streams: Set<Stream>;
  sent?: { version: string; nonce: string; at: number; snapshot: ProxySnapshot };
  acked?: { version: string; nonce: string; at: number };
  lastNack?: { version: string; nonce: string; error: string; at: number };
  /** The answer to the latest push (undefined: none yet). */
  answer?: 'ack' | 'nack';
}

export interface XdsServerOptions {
  /** The node's current snapshot, or undefined while the node is unknown (its stream then waits). */
  snapshotFor(nodeId: string): ProxySnapshot | undefined;
  now(): number;
  pingIntervalMs?: number;
}

export class XdsServer {
  private readonly nodes = new Map<string, NodeRecord>();
  /** Nonces are unique across control plane restarts, so an ACK meant for a previous run is never taken for this one. */
  private readonly nonceBase = randomBytes(4).toString('hex');
  private nonces = 0;
  private readonly ping: NodeJS.Timeout;

  constructor(private readonly opts: XdsServerOptions) {
    this.ping = setInterval(() => this.keepAlive(), opts.pingIntervalMs ?? 5000);
    this.ping.unref();
  }

  /** Handles `/xds/v1/*`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname === '/xds/v1/stream') {
      if (req.method !== 'GET') sendError(res, new HttpError(405, 'E_METHOD', 'use GET'));
      else this.openStream(req, res, url.searchParams.get('node') ?? '');
      return true;
    }
    if (url.pathname === '/xds/v1/ack') {
      if (req.method !== 'POST') sendError(res, new HttpError(405, 'E_METHOD', 'use POST'));
      else this.receiveAck(req, res).catch((e) => sendError(res, e));
      return true;
    }
    return false;
  }

  /** Send the node's current snapshot on every stream that does not have it yet. */
  push(nodeId: string): void {
    const rec = this.nodes.get(nodeId);
    if (!rec || rec.streams.size === 0) return;
    const snapshot = this.opts.snapshotFor(nodeId);
    if (!snapshot) return;
    for (const s of rec.streams) if (s.version !== snapshot.version) this.send(nodeId, rec, s, snapshot);
  }

  pushAll(): void {
    for (const id of this.nodes.keys()) this.push(id);
  }

  /** The snapshot last sent to a node (what it runs, if it ACKed). */
  lastSent(nodeId: string): ProxySnapshot | undefined {
    return this.nodes.get(nodeId)?.sent?.snapshot;
  }

  /** Sync state of these nodes and of every node that ever connected. */
  states(knownNodes: Iterable<string>): NodeSyncState[] {
    const ids = new Set([...knownNodes, ...this.nodes.keys()]);
    return [...ids].sort().map((id) => this.state(id));
  }

  state(nodeId: string): NodeSyncState {
    const rec = this.nodes.get(nodeId);
    const connected = !!rec && rec.streams.size > 0;
    const sent = rec?.sent && { version: rec.sent.version, nonce: rec.sent.nonce, at: rec.sent.at };
    let status: SyncStatus;
    if (!connected) status = 'DISCONNECTED';
    else if (!sent) status = 'NOT_SENT';
    else if (rec!.answer === 'nack') status = 'NACKED';
    else if (rec!.answer === 'ack' && rec!.acked?.version === sent.version) status = 'SYNCED';
    else status = 'STALE';
    return {
      node: nodeId,
      connected,
      streams: rec?.streams.size ?? 0,
      ...(sent && { sent }),
      ...(rec?.acked && { acked: rec.acked }),
      ...(rec?.lastNack && { lastNack: rec.lastNack }),
      status,
    };
  }

  /** End every stream (proxies keep their last snapshot and reconnect). */
  close(): void {
    clearInterval(this.ping);
    for (const rec of this.nodes.values()) for (const s of rec.streams) s.res.end();
  }

  private record(nodeId: string): NodeRecord {
    let rec = this.nodes.get(nodeId);
    if (!rec) this.nodes.set(nodeId, (rec = { streams: new Set() }));
    return rec;
  }

  private openStream(req: IncomingMessage, res: ServerResponse, nodeId: string): void {
    if (!nodeId) return sendError(res, new HttpError(400, 'E_NO_NODE', 'query parameter node is required'));
    const rec = this.record(nodeId);
    const stream: Stream = { res };
    rec.streams.add(stream);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const drop = () => rec.streams.delete(stream);
    res.on('close', drop);
    req.on('error', drop);
    // A (re)connecting proxy always gets the current snapshot first, whatever it had before.
    const snapshot = this.opts.snapshotFor(nodeId);
    if (snapshot) this.send(nodeId, rec, stream, snapshot);
  }

  private send(nodeId: string, rec: NodeRecord, stream: Stream, snapshot: ProxySnapshot): void {
    const nonce = `${this.nonceBase}-${++this.nonces}`;
    const msg: PushMessage = { type: 'snapshot', nonce, snapshot };
    stream.version = snapshot.version;
    rec.sent = { version: snapshot.version, nonce, at: this.opts.now(), snapshot };
    rec.answer = undefined;
    stream.res.write(`${JSON.stringify(msg)}\n`);
  }

  private async receiveAck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ack = (await readJson(req)) as AckMessage;
    if (!ack || typeof ack.node !== 'string' || typeof ack.version !== 'string' || typeof ack.nonce !== 'string') {
      throw new HttpError(400, 'E_BAD_ACK', 'an ACK needs node, version and nonce (strings), and error for a NACK');
    }
    const rec = this.nodes.get(ack.node);
    // An answer to an older push (or to another control plane run) says nothing about the latest one.
    if (!rec?.sent || rec.sent.nonce !== ack.nonce) return sendJson(res, 200, { accepted: false, reason: 'stale nonce' });
    const at = this.opts.now();
    if (typeof ack.error === 'string') {
      rec.answer = 'nack';
      rec.lastNack = { version: ack.version, nonce: ack.nonce, error: ack.error, at };
    } else {
      rec.answer = 'ack';
      rec.acked = { version: ack.version, nonce: ack.nonce, at };
    }
    sendJson(res, 200, { accepted: true });
  }

  private keepAlive(): void {
    for (const rec of this.nodes.values()) for (const s of rec.streams) s.res.write('\n');
  }
}
