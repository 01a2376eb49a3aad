import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { assignment, cluster, endpoint, testNode } from './helpers.js';

// TCP listeners: bytes piped both ways to one endpoint of the listener's cluster, chosen by the
// cluster's balancer; no healthy endpoint or a refused connect closes the client connection.

const NET = '127.10.225';
const PROXY = `${NET}.1`;
const node = testNode(PROXY);

function tcpSnapshot(): ProxySnapshot {
  const listener = (port: number, tcpCluster: string) => ({ name: `outbound_tcp_${port}`, direction: 'outbound' as const, address: PROXY, port, protocol: 'tcp' as const, tcpCluster });
  return {
    version: '1',
    node,
    listeners: [listener(3306, 'outbound|3306||db'), listener(3307, 'outbound|3307||dead'), listener(3308, 'outbound|3308||down'), listener(3309, 'outbound|3309||mixed'), listener(3310, 'outbound|3310||limited')],
    routes: [],
    clusters: [
      cluster('outbound|3306||db', 'ROUND_ROBIN', { protocol: 'tcp' }),
      cluster('outbound|3307||dead', 'ROUND_ROBIN', { protocol: 'tcp' }),
      cluster('outbound|3308||down', 'ROUND_ROBIN', { protocol: 'tcp' }),
      cluster('outbound|3309||mixed', 'ROUND_ROBIN', { protocol: 'tcp', outlierDetection: { consecutive5xxErrors: 1, maxEjectionPercent: 50 } }),
      cluster('outbound|3310||limited', 'ROUND_ROBIN', { protocol: 'tcp', connectionPool: { tcp: { maxConnections: 1 } } }),
    ],
    endpoints: [
      assignment('outbound|3306||db', [endpoint(`${NET}.10`, 3306), endpoint(`${NET}.11`, 3306)]),
      assignment('outbound|3307||dead', [endpoint(`${NET}.99`, 3306)]),
      assignment('outbound|3308||down', [endpoint(`${NET}.10`, 3306, { healthy: false })]),
      assignment('outbound|3309||mixed', [endpoint(`${NET}.98`, 3306), endpoint(`${NET}.10`, 3306)]),
      assignment('outbound|3310||limited', [endpoint(`${NET}.11`, 3306)]),
    ],
  };
}

/** A TCP server that answers every chunk with `<name>:<chunk>`. */
function echoServer(name: string, address: string): Promise<Server> {
  const server = createServer((sock) => sock.on('data', (c) => sock.write(`${name}:${c}`)));
  return new Promise((resolve) => server.listen(3306, address, () => resolve(server)));
}

/** Connects through the proxy, sends `text`, resolves with the first reply, or with null when the proxy closes the connection. */
function exchange(port: number, text: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: PROXY, port }, () => sock.write(text));
    sock.once('data', (c) => {
      resolve(c.toString());
      sock.end();
    });
    sock.once('close', () => resolve(null));
    sock.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(null) : reject(e)));
  });
}

describe('tcp listeners', { timeout: 60_000 }, () => {
  const sidecar = new Sidecar();
  const servers: Server[] = [];

  before(async () => {
    servers.push(await echoServer('db0', `${NET}.10`), await echoServer('db1', `${NET}.11`));
    assert.deepEqual(sidecar.applySnapshot(tcpSnapshot()), { ok: true });
    await sidecar.settled();
  });

  after(async () => {
    await sidecar.stop(0);
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  test('bytes go both ways, connections spread by the cluster balancer (ROUND_ROBIN)', async () => {
    const replies: Array<string | null> = [];
    for (let i = 0; i < 4; i++) replies.push(await exchange(3306, `hello${i}`));
    assert.deepEqual(replies, ['db0:hello0', 'db1:hello1', 'db0:hello2', 'db1:hello3']);
  });

  test('connect failure (UF) closes the client connection', async () => {
    assert.equal(await exchange(3307, 'x'), null);
    assert.ok(sidecar.stats.get('tcp.response_flags.UF') >= 1);
  });

  test('no healthy endpoint (UH) closes the client connection', async () => {
    assert.equal(await exchange(3308, 'x'), null);
    assert.equal(sidecar.stats.get('tcp.response_flags.UH'), 1);
  });

  test('outlier detection: a refused connect counts as a 503 and ejects the host (Envoy TCP proxy, non-split mode)', async () => {
    assert.equal(await exchange(3309, 'a'), null); // round robin starts on the dead endpoint
    const replies: Array<string | null> = [];
    for (let i = 0; i < 3; i++) replies.push(await exchange(3309, `m${i}`));
    assert.deepEqual(replies, ['db0:m0', 'db0:m1', 'db0:m2']); // ejected after one error: every connection goes to the live one
    assert.equal(sidecar.stats.get('cluster.outbound|3309||mixed.outlier_detection.ejections_enforced_total'), 1);
  });

  test('connectionPool tcp.maxConnections: a connection beyond the limit is closed (UO), the one in use is not', async () => {
    const held = connect({ host: PROXY, port: 3310 });
    const firstReply = new Promise<string>((r) => held.once('data', (c) => r(c.toString())));
    held.write('keep');
    assert.equal(await firstReply, 'db1:keep'); // the one allowed connection is up
    assert.equal(await exchange(3310, 'more'), null);
    assert.equal(sidecar.stats.get('tcp.response_flags.UO'), 1);
    assert.equal(sidecar.stats.get('cluster.outbound|3310||limited.upstream_cx_overflow'), 1);
    const closed = new Promise((r) => held.once('close', r));
    held.end();
    await closed;
  });
});
