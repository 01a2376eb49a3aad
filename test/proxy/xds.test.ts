import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, get, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AckMessage, ProxySnapshot } from '../../src/api/snapshot.js';
import { assignment, cluster, endpoint, outboundSnapshot, startUpstream, testNode, viaProxy, type Upstream } from './helpers.js';

// The real sidecar process (`node dist/src/proxy/main.js`) against a small control plane
// written here, speaking the protocol of src/api/snapshot.ts: it receives a snapshot and ACKs;
// NACKs an invalid one and keeps serving; keeps serving when the control plane dies; and
// reconnects and resyncs when a new control plane comes up on the same address.

const NET = '127.10.224';
const PROXY = `${NET}.1`;
const CP = { address: `${NET}.2`, port: 15010 };
const ONE = `${NET}.10`;
const TWO = `${NET}.11`;
const node = testNode(PROXY);
const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'proxy', 'main.js');

function snap(version: string, target: string): ProxySnapshot {
  const c = 'outbound|80||svc.test.svc.cluster.local';
  return outboundSnapshot(version, node, {
    routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'svc', domains: ['svc'], routes: [{ name: 'r', match: [], action: { kind: 'route', destinations: [{ cluster: c, weight: 100 }] } }] }] }],
    clusters: [cluster(c)],
    endpoints: [assignment(c, [endpoint(target, 8080)])],
  });
}

/** A test control plane: sends `current` to each stream that opens, pushes on demand, records ACKs. */
class TestControlPlane {
  readonly acks: AckMessage[] = [];
  private readonly streams = new Set<ServerResponse>();
  private ackWaiters: Array<(a: AckMessage) => void> = [];
  private nonce = 0;
  private server: Server | null = null;

  constructor(public current: ProxySnapshot) {}

  start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://cp');
      if (req.method === 'GET' && url.pathname === '/xds/v1/stream') {
        assert.equal(url.searchParams.get('node'), node.id);
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        this.streams.add(res);
        res.on('close', () => this.streams.delete(res));
        this.send(res, this.current);
      } else if (req.method === 'POST' && url.pathname === '/xds/v1/ack') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const ack = JSON.parse(body) as AckMessage;
          this.acks.push(ack);
          for (const w of this.ackWaiters.splice(0)) w(ack);
          res.end();
        });
      } else res.writeHead(404).end();
    });
    const server = this.server;
    return new Promise((resolve) => server.listen(CP.port, CP.address, resolve));
  }

  /** Pushes a snapshot to every open stream; returns its nonce. */
  push(s: ProxySnapshot): string {
    let nonce = '';
    for (const res of this.streams) nonce = this.send(res, s);
    return nonce;
  }

  /** Resolves with the ACK/NACK of the push with this nonce (`n1` is the snapshot sent on connect). */
  ack(nonce: string): Promise<AckMessage> {
    const seen = this.acks.find((a) => a.nonce === nonce);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const wait = (a: AckMessage) => (a.nonce === nonce ? resolve(a) : this.ackWaiters.push(wait));
      this.ackWaiters.push(wait);
    });
  }

  /** Gone at once: listening socket and open streams. */
  kill(): Promise<void> {
    const server = this.server!;
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private send(res: ServerResponse, s: ProxySnapshot): string {
    const nonce = `n${++this.nonce}`;
    res.write(JSON.stringify({ type: 'snapshot', nonce, snapshot: s }) + '\n');
    return nonce;
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('sidecar process and the xDS protocol', { timeout: 60_000 }, () => {
  let cp = new TestControlPlane(snap('1', ONE));
  const upstreams: Upstream[] = [];
  let child: ChildProcess;
  let stderr = '';
  const call = async () => (await viaProxy({ proxy: { address: PROXY, port: 15001 }, url: 'http://svc/' })).upstream;

  before(async () => {
    upstreams.push(await startUpstream('one', { address: ONE, port: 8080 }));
    upstreams.push(await startUpstream('two', { address: TWO, port: 8080 }));
    await cp.start();
    child = spawn(process.execPath, [main], {
      env: { ...process.env, MESH_NODE: JSON.stringify(node), MESH_XDS: `http://${CP.address}:${CP.port}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (c) => (stderr += c));
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await cp.kill().catch(() => undefined);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  test('receives the snapshot on connect, ACKs it, serves it, reports ready', async () => {
    const ack = await cp.ack('n1');
    assert.deepEqual({ version: ack.version, error: ack.error, node: ack.node }, { version: '1', error: undefined, node: node.id });
    assert.equal((await httpGet(`http://${PROXY}:15000/ready`)).status, 200, stderr);
    assert.equal(await call(), 'one');
    const dump = JSON.parse((await httpGet(`http://${PROXY}:15000/config_dump`)).body) as ProxySnapshot;
    assert.equal(dump.version, '1');
  });

  test('NACKs an invalid snapshot with the error and keeps serving the last good one', async () => {
    const bad = snap('2', TWO);
    bad.routes[0].virtualHosts[0].routes[0].match = [{ uri: { regex: '(' } }];
    const nonce = cp.push(bad);
    const nack = await cp.ack(nonce);
    assert.match(nack.error ?? '', /invalid regex/);
    assert.equal(nack.version, '2', 'a NACK names the version it rejected');
    assert.equal(JSON.parse((await httpGet(`http://${PROXY}:15000/xds_status`)).body).acceptedVersion, '1');
    assert.equal(await call(), 'one');
    assert.equal(JSON.parse((await httpGet(`http://${PROXY}:15000/config_dump`)).body).version, '1');
  });

  test('a valid push is ACKed and routes the next request', async () => {
    const ack = await cp.ack(cp.push(snap('3', TWO)));
    assert.equal(ack.error, undefined);
    assert.equal(ack.version, '3');
    assert.equal(await call(), 'two');
  });

  test('control plane killed: the sidecar keeps serving its last snapshot', async () => {
    await cp.kill();
    for (let i = 0; i < 20; i++) assert.equal(await call(), 'two');
  });

  test('a new control plane on the same address: the sidecar reconnects and resyncs', async () => {
    cp = new TestControlPlane(snap('4', ONE));
    await cp.start();
    const ack = await cp.ack('n1');
    assert.deepEqual({ version: ack.version, error: ack.error }, { version: '4', error: undefined });
    assert.equal(await call(), 'one');
    const status = JSON.parse((await httpGet(`http://${PROXY}:15000/xds_status`)).body);
    assert.equal(status.connected, true);
    assert.equal(status.acceptedVersion, '4');
  });

  test('SIGTERM: the process drains and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exited, 0, stderr);
    await assert.rejects(call(), /ECONNREFUSED/);
  });
});
