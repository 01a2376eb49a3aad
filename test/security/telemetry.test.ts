import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prometheusText } from '../../src/telemetry/sidecar/exposition.js';
import { AdminServer } from '../../src/proxy/admin-server.js';
import { telemetryOf } from '../../src/telemetry/sidecar/sidecar-telemetry.js';
import type { Span } from '../../src/telemetry/tracing/span.js';
import { NET, SecurityMesh, send } from './mesh-fixture.js';

// Istio's security labels on the server's destination reports and spans: connection_security_policy
// `mutual_tls` with the caller's and the workload's SPIFFE ids over mTLS, `none` and `unknown`
// principals for plaintext; an RBAC denial counts as a 403 with no response flag.

const spans: Span[] = [];
const mesh = new SecurityMesh({ spans });
before(async () => {
  await mesh.start();
  mesh.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: back}
spec: {action: DENY, rules: [{to: [{operation: {paths: ["/admin*"]}}]}]}
`);
  await mesh.add('httpbin', 'back', 'httpbin', `${NET}.22`, { ports: [{ port: 8000, app: 8002 }] });
  await mesh.add('sleep', 'front', 'sleep', `${NET}.16`);
  await mesh.add('legacy', 'front', 'legacy', `${NET}.17`, { certificate: false });
  await mesh.sync();
});
after(() => mesh.stop());

const series = (text: string, ...needles: string[]) => text.split('\n').filter((l) => l.startsWith('istio_requests_total{') && needles.every((n) => l.includes(n)));

test('destination reports carry principals and connection_security_policy', async () => {
  assert.equal((await send({ address: `${NET}.16`, port: 15001 }, 'http://httpbin.back:8000/ok')).status, 200);
  assert.equal((await send({ address: `${NET}.16`, port: 15001 }, 'http://httpbin.back:8000/admin')).status, 403);
  assert.equal((await send({ address: `${NET}.17`, port: 15001 }, 'http://httpbin.back:8000/ok')).status, 200);
  const text = prometheusText(telemetryOf(mesh.member('httpbin').sidecar).metrics);
  const mtls = ['reporter="destination"', 'source_principal="spiffe://cluster.local/ns/front/sa/sleep"', 'destination_principal="spiffe://cluster.local/ns/back/sa/httpbin"', 'connection_security_policy="mutual_tls"'];
  assert.equal(series(text, ...mtls, 'response_code="200"').length, 1, text);
  assert.equal(series(text, ...mtls, 'response_code="403"', 'response_flags="-"').length, 1, 'the denial is counted');
  assert.equal(series(text, 'reporter="destination"', 'source_principal="unknown"', 'destination_principal="unknown"', 'connection_security_policy="none"', 'response_code="200"').length, 1, 'plaintext');
  const client = prometheusText(telemetryOf(mesh.member('sleep').sidecar).metrics);
  assert.ok(series(client, 'reporter="source"', 'connection_security_policy="unknown"').length >= 1);
});

test('server spans carry the principals', async () => {
  // A caller's sampling decision (traceparent flag 01) is followed by both sidecars.
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal((await send({ address: `${NET}.16`, port: 15001 }, 'http://httpbin.back:8000/traced', { headers: { traceparent } })).status, 200);
  const server = spans.find((s) => s.kind === 'SERVER' && s.url.includes('/traced'));
  assert.ok(server, `a SERVER span (${spans.map((s) => s.kind + ' ' + s.url).join(', ')})`);
  assert.equal(server.sourcePrincipal, 'spiffe://cluster.local/ns/front/sa/sleep');
  assert.equal(server.destinationPrincipal, 'spiffe://cluster.local/ns/back/sa/httpbin');
});

test('the admin server shows the workload certificate (never its key)', async () => {
  const sidecar = mesh.member('httpbin').sidecar;
  const admin = new AdminServer(sidecar);
  await admin.listen(`${NET}.22`, 15000);
  try {
    const body = await (await fetch(`http://${NET}.22:15000/certs`)).text();
    const { certificates } = JSON.parse(body) as { certificates: Array<{ spiffeId: string; serial: string }> };
    assert.equal(certificates[0].spiffeId, 'spiffe://cluster.local/ns/back/sa/httpbin');
    assert.equal(certificates[0].serial, sidecar.tls!.current!.serial);
    assert.ok(!body.includes('PRIVATE KEY'));
  } finally {
    await admin.close();
  }
});
