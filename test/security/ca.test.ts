import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkloadInstance } from '../../src/api/snapshot.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { BootstrapSecret, writeCredentialFile } from '../../src/security/bootstrap-credential.js';
import { MeshCa } from '../../src/security/mesh-ca.js';
import { createCsr, generateKeyPair } from '../../src/security/x509.js';
import { controlPlaneSigner } from '../../src/proxy/tls/workload-credentials.js';

// The mesh CA: root and bootstrap secret in the state directory (0600), certificates over the
// control plane's endpoint only for a node's own credential, with the registry's identity
// (never the CSR's), short-lived, chaining to the root; nothing secret in answers or logs.

const dir = mkdtempSync(join(tmpdir(), 'meshmedic-ca-'));
const logs: string[] = [];
const cp = new ControlPlane({ host: '127.10.31.1', security: { stateDir: dir, workloadCertTtlMs: 600_000 }, log: (l) => logs.push(l) });

const inst: WorkloadInstance = {
  name: 'reviews-v1-0', workload: 'reviews-v1', namespace: 'bookinfo', serviceAccount: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v1' },
  address: '127.10.31.10', ports: [], healthy: true, source: 'registered',
};
const NODE = 'reviews-v1-0.bookinfo';

before(async () => {
  await cp.start();
  cp.registry.upsert(inst);
});
after(async () => {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: unknown, credential?: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${cp.url}/xds/v1/certificates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential && { authorization: `Bearer ${credential}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

async function csr(cn = 'spiffe-please'): Promise<string> {
  return createCsr(await generateKeyPair(), cn);
}

describe('mesh CA', () => {
  test('root key, certificate and bootstrap secret are in the state directory, mode 0600', () => {
    for (const f of ['root-key.pem', 'root-cert.pem', 'bootstrap-secret']) {
      const st = statSync(join(dir, 'ca', f));
      assert.equal(st.mode & 0o777, 0o600, f);
    }
    assert.equal(statSync(join(dir, 'ca')).mode & 0o777, 0o700);
    const root = new X509Certificate(readFileSync(join(dir, 'ca', 'root-cert.pem')));
    assert.ok(root.ca);
  });

  test('a reopened CA keeps the same root (sidecars keep trusting it across restarts)', async () => {
    const again = await MeshCa.open({ stateDir: dir });
    assert.equal(again.rootPem, cp.ca.ca.rootPem);
  });

  test('issues a short-lived certificate with the registry identity as SPIFFE URI SAN, chained to the root', async () => {
    const t0 = Date.now();
    const r = await post({ node: NODE, csr: await csr('spiffe://cluster.local/ns/istio-system/sa/admin') }, cp.ca.credentialFor(NODE));
    assert.equal(r.status, 200, r.text);
    const cert = new X509Certificate(r.json.certificateChain[0]);
    assert.equal(r.json.spiffeId, 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews');
    assert.equal(cert.subjectAltName, 'URI:spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews');
    const root = new X509Certificate(r.json.rootCert);
    assert.ok(cert.verify(root.publicKey), 'signed by the root');
    assert.ok(cert.checkIssued(root));
    assert.equal(cert.ca, false);
    const life = Date.parse(cert.validTo) - t0;
    assert.ok(life > 590_000 && life <= 601_000, `lifetime ${life} ms`);
  });

  test('the credential file the daemon writes is 0600 and works with the sidecar signer', async () => {
    const file = writeCredentialFile(dir, NODE, BootstrapSecret.open(dir).credentialFor(NODE));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const signed = await controlPlaneSigner(cp.url, NODE, readFileSync(file, 'utf8'))(await csr());
    assert.equal(signed.spiffeId, 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews');
  });

  test('refuses a missing or wrong credential, and another node\'s credential', async () => {
    const body = { node: NODE, csr: await csr() };
    const none = await post(body);
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'E_BAD_CREDENTIAL');
    assert.equal((await post(body, 'not-the-credential')).status, 401);
    const stolen = await post(body, cp.ca.credentialFor('ratings-v1-0.bookinfo'));
    assert.equal(stolen.status, 401);
  });

  test('refuses an unknown node and a CSR that is not one', async () => {
    const unknown = await post({ node: 'ghost-0.bookinfo', csr: await csr() }, cp.ca.credentialFor('ghost-0.bookinfo'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'E_UNKNOWN_NODE');
    const bad = await post({ node: NODE, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' }, cp.ca.credentialFor(NODE));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'E_BAD_CSR');
    assert.equal((await post('{not json', cp.ca.credentialFor(NODE))).json.error.code, 'E_BAD_JSON');
  });

  test('no credential or key ever appears in answers, logs or the status', async () => {
    const secret = cp.ca.credentialFor(NODE);
    const key = readFileSync(join(dir, 'ca', 'root-key.pem'), 'utf8');
    const status = JSON.stringify(cp.status());
    for (const text of [status, logs.join('\n')]) {
      assert.ok(!text.includes(secret));
      assert.ok(!text.includes(key.split('\n')[1]));
    }
    assert.ok(logs.some((l) => l.includes('refused a certificate')), 'refusals are logged (without the credential)');
    assert.ok(JSON.parse(status).ca.issued >= 2);
  });
});
