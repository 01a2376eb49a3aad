import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, test } from 'node:test';
import { ManualClock } from '../support/manual-clock.js';
import { NET, SecurityMesh, send } from './mesh-fixture.js';

// Certificate rotation under steady load (issue 9, Done when): the sidecars renew their workload
// certificates at half their lifetime, on the injected clock. While the clock is moved through
// three lifetimes' worth of renewals, a client keeps sending requests (new connections, a
// keep-alive connection, and slow requests in flight across each swap) under STRICT mutual TLS.
// Zero may fail. Requests in flight finish on the connection (and certificate) they started on;
// the next requests go out on new connections that present the new certificate.

const HOUR = 3600_000;
const clock = new ManualClock(Date.now());
const mesh = new SecurityMesh({ clock, workloadCertTtlMs: HOUR });

before(async () => {
  await mesh.start();
  mesh.apply(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
`);
  await mesh.add('httpbin', 'back', 'httpbin', `${NET}.21`, { ports: [{ port: 8000, app: 8001 }] });
  await mesh.add('sleep', 'front', 'sleep', `${NET}.15`);
  await mesh.sync();
});

after(() => mesh.stop());

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

test('rotation under steady load: zero failed requests, new connections use the new certificate', async () => {
  const client = mesh.member('sleep');
  const server = mesh.member('httpbin');
  const proxy = { address: client.instance.address, port: 15001 };
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const results: Array<{ status: number; error?: string }> = [];
  let stop = false;
  const loop = async (path: string, agent?: Agent) => {
    while (!stop) {
      const r = await sendVia(proxy, `http://httpbin.back:8000${path}`, agent);
      results.push(r);
    }
  };
  const sendVia = (via: typeof proxy, url: string, agent?: Agent) =>
    agent ? sendWithAgent(via, url, agent) : send(via, url).then((o) => ({ status: o.status, error: o.error }));
  const loops = [loop('/fresh'), loop('/fresh'), loop('/kept', keepAlive), loop('/slow')];

  const serials = new Set<string>();
  const startClient = client.credentials!.installed;
  const startServer = server.credentials!.installed;
  for (let round = 1; round <= 3; round++) {
    const before = results.length;
    await until('load before the swap', () => results.length >= before + 5);
    clock.advance(HOUR / 2 + 1000); // past half the lifetime: both sidecars renew
    await until(`renewal ${round}`, () => client.credentials!.installed === startClient + round && server.credentials!.installed === startServer + round);
    serials.add(client.credentials!.current!.serial.toUpperCase());
    const after = results.length;
    await until('load after the swap', () => results.length >= after + 5);
  }
  stop = true;
  await Promise.all(loops);
  keepAlive.destroy();

  const failed = results.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  assert.ok(results.length >= 30, `steady load (${results.length} requests)`);
  // New connections presented each renewed certificate to the server.
  const seenSerials = new Set(server.inbound.filter((s) => s.mtls).map((s) => s.serial.toUpperCase()));
  for (const serial of serials) assert.ok(seenSerials.has(serial.replace(/^0+/, '')) || seenSerials.has(serial), `serial ${serial} seen by the server (${[...seenSerials].join(' ')})`);
  assert.equal(serials.size, 3);
  assert.ok(server.inbound.every((s) => s.mtls), 'everything came over mutual TLS');
});

function sendWithAgent(via: { address: string; port: number }, url: string, agent: Agent): Promise<{ status: number; error?: string }> {
  return import('node:http').then(
    ({ request }) =>
      new Promise((resolve) => {
        const u = new URL(url);
        const req = request({ host: via.address, port: via.port, path: url, headers: { host: u.host }, agent });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        });
        req.on('error', (e) => resolve({ status: 0, error: e.message }));
        req.end();
      }),
  );
}
