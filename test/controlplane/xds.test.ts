import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { BOOKINFO, instance, load } from './fixtures.js';
import { openStream, postAck, until, type StreamClient } from './stream-client.js';

// The push transport over a real HTTP connection: first message is the current snapshot, an
// ACK makes the node SYNCED, a NACK NACKED, a config change pushes a new version, and a
// reconnecting proxy gets the current snapshot. The control plane listens on 127.10.202.1.

const HOST = '127.10.202.1';
let cp: ControlPlane;
let url: string;
const streams: StreamClient[] = [];

before(async () => {
  cp = new ControlPlane({ host: HOST, port: 0, clock: { now: () => 1_000 } });
  cp.store.apply(load(BOOKINFO));
  for (const i of [instance('productpage-v1-0', 'productpage', 'v1', { address: '127.10.202.10' }), instance('reviews-v1-0', 'reviews', 'v1', { address: '127.10.202.11' })]) {
    cp.registry.upsert(i);
  }
  url = (await cp.start()).url;
});

after(async () => {
  for (const s of streams) s.close();
  await cp.stop();
});

async function connect(node: string): Promise<StreamClient> {
  const s = await openStream(url, node);
  streams.push(s);
  return s;
}

async function statusOf(node: string): Promise<any> {
  const body = (await (await fetch(`${url}/api/v1/proxy-status`)).json()) as { proxies: any[] };
  return body.proxies.find((p) => p.node === node);
}

const PP = 'productpage-v1-0.bookinfo';

test('a proxy receives its snapshot first, then ACK, change, NACK and reconnect move its status', async () => {
  assert.equal((await statusOf(PP)).status, 'DISCONNECTED');
  const s = await connect(PP);
  assert.equal(s.status, 200);
  const first = await s.next();
  assert.equal(first.type, 'snapshot');
  assert.equal(first.snapshot.node.id, PP);
  assert.match(first.snapshot.version, /^1-[0-9a-f]{12}$/);
  assert.equal((await statusOf(PP)).status, 'STALE');

  // ACK: synced at that version.
  assert.deepEqual((await postAck(url, { node: PP, version: first.snapshot.version, nonce: first.nonce })).body, { accepted: true });
  let st = await statusOf(PP);
  assert.equal(st.status, 'SYNCED');
  assert.equal(st.acked.version, first.snapshot.version);

  // A change that does not touch this proxy pushes nothing; the next real change is version 2.
  cp.store.apply(load('apiVersion: v1\nkind: Service\nmetadata: {name: hidden, namespace: other, annotations: {networking.istio.io/exportTo: "."}}\nspec: {selector: {app: hidden}, ports: [{name: http, port: 80}]}\n'));
  cp.flush();
  cp.store.apply(load('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}], timeout: 2s}]}\n'));
  const second = await s.next();
  assert.match(second.snapshot.version, /^2-/);
  assert.notEqual(second.nonce, first.nonce);
  const rc = second.snapshot.routes.find((r) => r.name === 'outbound_http')!;
  const reviews = rc.virtualHosts.find((v) => v.domains.includes('reviews:9080'))!;
  assert.equal(reviews.routes[0].action.kind === 'route' && reviews.routes[0].action.timeoutMs, 2000);
  assert.equal((await statusOf(PP)).status, 'STALE');

  // An answer to an older push says nothing about this one.
  assert.equal((await postAck(url, { node: PP, version: first.snapshot.version, nonce: first.nonce })).body.accepted, false);
  assert.equal((await statusOf(PP)).status, 'STALE');

  // NACK: the proxy kept version 1; the control plane shows the error.
  await postAck(url, { node: PP, version: second.snapshot.version, nonce: second.nonce, error: 'route regex does not compile' });
  st = await statusOf(PP);
  assert.equal(st.status, 'NACKED');
  assert.equal(st.lastNack.error, 'route regex does not compile');
  assert.equal(st.acked.version, first.snapshot.version);
  assert.equal(st.sent.version, second.snapshot.version);

  // The config API shows what was sent.
  const sent = (await (await fetch(`${url}/api/v1/proxies/${PP}/config`)).json()) as any;
  assert.equal(sent.version, second.snapshot.version);

  // Disconnect, then reconnect: the current snapshot comes first again.
  s.close();
  await until('the control plane sees the proxy gone', async () => (await statusOf(PP)).status === 'DISCONNECTED');
  const again = await connect(PP);
  const resent = await again.next();
  assert.equal(resent.snapshot.version, second.snapshot.version);
  await postAck(url, { node: PP, version: resent.snapshot.version, nonce: resent.nonce });
  assert.equal((await statusOf(PP)).status, 'SYNCED');
});

test('a proxy that connects before its instance is registered gets its snapshot when it appears', async () => {
  const node = 'ratings-v1-0.bookinfo';
  const s = await connect(node);
  assert.equal(s.pending(), 0);
  assert.equal((await statusOf(node)).status, 'NOT_SENT');
  cp.registry.upsert(instance('ratings-v1-0', 'ratings', 'v1', { address: '127.10.202.12' }));
  const msg = await s.next();
  assert.equal(msg.snapshot.node.id, node);
  assert.equal(msg.snapshot.node.address, '127.10.202.12');
});

test('an instance going down changes the endpoints other proxies hold', async () => {
  const s = await connect('reviews-v1-0.bookinfo');
  const first = await s.next();
  const ratings = (snap: typeof first.snapshot) =>
    snap.endpoints.find((e) => e.clusterName === 'outbound|9080||ratings.bookinfo.svc.cluster.local')?.endpoints.map((e) => e.healthy);
  assert.deepEqual(ratings(first.snapshot), [true]);
  cp.registry.setHealthy('bookinfo', 'ratings-v1-0', false);
  assert.deepEqual(ratings((await s.next()).snapshot), [false]);
});

test('stream and ack errors are answered with codes', async () => {
  const noNode = await fetch(`${url}/xds/v1/stream`);
  assert.equal(noNode.status, 400);
  assert.equal(((await noNode.json()) as any).error.code, 'E_NO_NODE');
  const badAck = await fetch(`${url}/xds/v1/ack`, { method: 'POST', body: '{"node": 1}' });
  assert.equal(badAck.status, 400);
  assert.equal(((await badAck.json()) as any).error.code, 'E_BAD_ACK');
});
