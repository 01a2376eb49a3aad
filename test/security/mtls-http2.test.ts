import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NET, SecurityMesh, send } from './mesh-fixture.js';

// A known limit, tested so it stays visible: HTTP/2 (grpc, http2) ports do not speak mutual TLS
// yet (node:http2 does not serve a TLS socket made by hand, which PERMISSIVE's first-byte
// detection needs). Their clusters stay h2c in plaintext, STRICT is not enforced on them, and the
// control plane says so in its notes.

const mesh = new SecurityMesh();
before(async () => {
  await mesh.start();
  mesh.apply(`
apiVersion: v1
kind: Service
metadata: {name: grpcbin, namespace: back}
spec: {selector: {app: grpcbin}, ports: [{name: grpc, port: 7000}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: back}
spec: {mtls: {mode: STRICT}}
`);
  await mesh.add('grpcbin', 'back', 'grpcbin', `${NET}.24`, { ports: [{ port: 7000, app: 7000, protocol: 'grpc' }] });
  await mesh.add('sleep', 'front', 'sleep', `${NET}.19`);
  await mesh.sync();
});
after(() => mesh.stop());

test('HTTP/2 ports stay plaintext under STRICT, and the control plane reports it', async () => {
  const out = await send({ address: `${NET}.19`, port: 15001 }, 'http://grpcbin.back:7000/pkg.Svc/Call', { method: 'POST' });
  assert.equal(out.status, 200, out.body);
  assert.deepEqual(JSON.parse(out.body), { path: '/pkg.Svc/Call', protocol: '2.0' });
  const seen = mesh.member('grpcbin').inbound.filter((s) => s.path === '/pkg.Svc/Call');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].mtls, false);
  assert.ok(mesh.cp.translationNotes().some((n) => n.includes('grpcbin-0') && n.includes('STRICT is not enforced')), mesh.cp.translationNotes().join('\n'));
});
