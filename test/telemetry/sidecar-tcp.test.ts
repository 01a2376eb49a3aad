import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Listener, ProxySnapshot } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import { find, meshEndpoint, node, parseExposition } from './sidecar-fixture.js';

// Istio's TCP metrics from a real sidecar: a connection through an outbound TCP listener is
// opened, its bytes both ways are counted (at every scrape while it is open, and at its close),
// and it is closed; a connection that cannot reach its upstream counts with its flag (UF, UH).

const NET = '127.10.141';
const PROXY = `${NET}.1`;
const DB = `${NET}.10`;
const DEAD = `${NET}.99`;

const client = node(PROXY, 'reviews-v1-0', 'reviews-v1', { app: 'reviews', version: 'v1' });
const mysql = node(DB, 'mysqldb-v1-0', 'mysqldb-v1', { app: 'mysqldb', version: 'v1' });
const db = (name: string) => `outbound|3306||${name}.bookinfo.svc.cluster.local`;

function snapshot(): ProxySnapshot {
  const listener = (port: number, name: string): Listener => ({ name: `outbound_tcp_${port}`, direction: 'outbound', address: PROXY, port, protocol: 'tcp', tcpCluster: db(name) });
  const cluster = (name: string) => ({ name: db(name), direction: 'outbound' as const, service: `${name}.bookinfo.svc.cluster.local`, port: 3306, protocol: 'tcp' as const, lbPolicy: 'ROUND_ROBIN' as const });
  return {
    version: '1',
    node: client,
    listeners: [listener(3306, 'mysqldb'), listener(3307, 'gone'), listener(3308, 'down')],
    routes: [],
    clusters: [cluster('mysqldb'), cluster('gone'), cluster('down')],
    endpoints: [
      { clusterName: db('mysqldb'), endpoints: [meshEndpoint(DB, 3306, mysql)] },
      { clusterName: db('gone'), endpoints: [meshEndpoint(DEAD, 3306, mysql)] },
      { clusterName: db('down'), endpoints: [{ ...meshEndpoint(DB, 3306, mysql), healthy: false }] },
    ],
  };
}

/** Answers every chunk with `ok:<chunk>`. */
function echoServer(): Promise<Server> {
  const server = createServer((sock) => sock.on('data', (c) => sock.write(`ok:${c}`)));
  return new Promise((resolve) => server.listen(3306, DB, () => resolve(server)));
}

function closed(sock: Socket): Promise<void> {
  return new Promise((resolve) => (sock.destroyed ? resolve() : sock.once('close', () => resolve())));
}

describe('sidecar metrics: TCP', { timeout: 60_000 }, () => {
  const sidecar = new Sidecar();
  let server: Server;
  const metrics = () => parseExposition(prometheusText(telemetryOf(sidecar).metrics));

  before(async () => {
    server = await echoServer();
    assert.deepEqual(sidecar.applySnapshot(snapshot()), { ok: true });
    await sidecar.settled();
  });

  after(async () => {
    await sidecar.stop(0);
    await new Promise((r) => server.close(r));
  });

  test('an open connection counts opened and its bytes at each scrape; closing it counts closed', async () => {
    const sock = connect({ host: PROXY, port: 3306 });
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write('hello'); // 5 bytes up, 8 bytes back
    await new Promise<void>((resolve) => sock.once('data', () => resolve()));
    const labels = {
      reporter: 'source', source_workload: 'reviews-v1', destination_workload: 'mysqldb-v1', destination_service: 'mysqldb.bookinfo.svc.cluster.local',
      destination_service_name: 'mysqldb', destination_service_namespace: 'bookinfo', request_protocol: 'tcp', response_flags: '-', connection_security_policy: 'unknown',
    };
    // The upstream 'connect' that reports the connection opened may trail the first reply by a turn.
    let open = metrics();
    while (find(open, 'istio_tcp_connections_opened_total', labels).length === 0) {
      await new Promise((r) => setImmediate(r));
      open = metrics();
    }
    assert.equal(find(open, 'istio_tcp_connections_opened_total', labels)[0].value, 1);
    assert.equal(find(open, 'istio_tcp_received_bytes_total', labels)[0].value, 5);
    assert.equal(find(open, 'istio_tcp_sent_bytes_total', labels)[0].value, 8);
    assert.equal(find(open, 'istio_tcp_connections_closed_total', labels).length, 0);
    const s = find(open, 'istio_tcp_connections_opened_total', labels)[0];
    assert.equal(s.labels.response_code, undefined, 'TCP reports carry no response_code');

    sock.write('again!'); // 6 up, 9 back
    await new Promise<void>((resolve) => sock.once('data', () => resolve()));
    sock.end();
    await closed(sock);
    let done = metrics();
    while (find(done, 'istio_tcp_connections_closed_total', labels).length === 0) {
      await new Promise((r) => setImmediate(r));
      done = metrics();
    }
    assert.equal(find(done, 'istio_tcp_connections_closed_total', labels)[0].value, 1);
    assert.equal(find(done, 'istio_tcp_received_bytes_total', labels)[0].value, 11);
    assert.equal(find(done, 'istio_tcp_sent_bytes_total', labels)[0].value, 17);
  });

  test('connections that reach no upstream count opened and closed with their flag (UF, UH)', async () => {
    for (const port of [3307, 3308]) {
      const sock = connect({ host: PROXY, port });
      sock.on('error', () => undefined);
      await closed(sock);
    }
    let samples = metrics();
    while (find(samples, 'istio_tcp_connections_closed_total', { response_flags: 'UF' }).length === 0) {
      await new Promise((r) => setImmediate(r));
      samples = metrics();
    }
    const uf = find(samples, 'istio_tcp_connections_closed_total', { response_flags: 'UF' });
    assert.deepEqual(uf.map((s) => [s.labels.destination_service, s.labels.destination_workload, s.value]), [['gone.bookinfo.svc.cluster.local', 'mysqldb-v1', 1]]);
    assert.equal(find(samples, 'istio_tcp_connections_opened_total', { response_flags: 'UF' })[0].value, 1);
    const uh = find(samples, 'istio_tcp_connections_closed_total', { response_flags: 'UH' });
    assert.deepEqual(uh.map((s) => [s.labels.destination_service, s.labels.destination_workload, s.value]), [['down.bookinfo.svc.cluster.local', 'unknown', 1]]);
  });
});
