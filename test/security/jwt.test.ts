import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { NET, SecurityMesh, send } from './mesh-fixture.js';

// RequestAuthentication with JWT over real sidecars (mTLS between them): tokens verified against
// an inline JWKS and against a JWKS served on a loopback URL; `requestPrincipals` and
// `request.auth.claims[...]` in AuthorizationPolicy; invalid tokens answered 401.

const ISS = 'https://issuer.example';
const ISS2 = 'https://loopback.example';
let key: CryptoKey;
let key2: CryptoKey;
let jwks = '';
let jwksServer: Server;
const JWKS_ADDR = { address: `${NET}.50`, port: 8080 };
const mesh = new SecurityMesh();

async function token(claims: Record<string, unknown>, opts: { iss?: string; exp?: string; aud?: string; signWith?: CryptoKey } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: opts.signWith === key2 ? 'k2' : 'k1' })
    .setIssuer(opts.iss ?? ISS)
    .setSubject('alice')
    .setAudience(opts.aud ?? 'httpbin')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m')
    .sign(opts.signWith ?? key);
}

const RA = () => `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: back}
spec:
  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - issuer: ${ISS}
    audiences: [httpbin]
    jwks: '${jwks}'
  - issuer: ${ISS2}
    jwksUri: http://${JWKS_ADDR.address}:${JWKS_ADDR.port}/jwks.json
`;
const ap = (spec: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: jwt-policy, namespace: back}
spec:
${spec}
`;

before(async () => {
  const a = await generateKeyPair('ES256');
  const b = await generateKeyPair('ES256');
  key = a.privateKey;
  key2 = b.privateKey;
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(a.publicKey)), kid: 'k1', alg: 'ES256' }] });
  const remote = JSON.stringify({ keys: [{ ...(await exportJWK(b.publicKey)), kid: 'k2', alg: 'ES256' }] });
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(remote));
  await new Promise<void>((r) => jwksServer.listen(JWKS_ADDR.port, JWKS_ADDR.address, r));
  await mesh.start();
  await mesh.add('httpbin', 'back', 'httpbin', `${NET}.23`, { ports: [{ port: 8000, app: 8003 }] });
  await mesh.add('sleep', 'front', 'sleep', `${NET}.18`);
  await mesh.sync();
});
after(async () => {
  await mesh.stop();
  await new Promise((r) => jwksServer.close(r));
});

async function call(yaml: string, headers: Record<string, string> = {}) {
  mesh.clearPolicies();
  mesh.apply(yaml);
  await mesh.sync();
  return send({ address: `${NET}.18`, port: 15001 }, 'http://httpbin.back:8000/jwt', { headers });
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('RequestAuthentication (JWT)', () => {
  test('no token: passes (no request principal)', async () => {
    assert.equal((await call(RA())).status, 200);
  });
  test('a valid token passes and is not forwarded to the application', async () => {
    const r = await call(RA(), bearer(await token({})));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).headers.authorization, undefined);
  });
  test('a bad signature is 401 Jwt verification fails', async () => {
    const r = await call(RA(), bearer(await token({}, { signWith: key2 })));
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Jwt verification fails');
  });
  test('an expired token is 401', async () => {
    assert.equal((await call(RA(), bearer(await token({}, { exp: '-1m' })))).status, 401);
  });
  test('a wrong audience is 401', async () => {
    assert.equal((await call(RA(), bearer(await token({}, { aud: 'someone-else' })))).status, 401);
  });
  test('an unknown issuer is 401', async () => {
    assert.equal((await call(RA(), bearer(await token({}, { iss: 'https://evil.example' })))).status, 401);
  });
  test('JWKS from a loopback URL', async () => {
    assert.equal((await call(RA(), bearer(await token({}, { iss: ISS2, signWith: key2 })))).status, 200);
  });
  test('requestPrincipals: iss/sub of a valid token is allowed', async () => {
    const y = RA() + '---' + ap(`  rules: [{from: [{source: {requestPrincipals: ["${ISS}/alice"]}}]}]`);
    assert.equal((await call(y, bearer(await token({})))).status, 200);
  });
  test('requestPrincipals ["*"]: a request without a token is denied (403)', async () => {
    const y = RA() + '---' + ap('  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]');
    const r = await call(y);
    assert.equal(r.status, 403);
    assert.equal(r.body, 'RBAC: access denied');
  });
  test('when request.auth.claims[groups]', async () => {
    const y = RA() + '---' + ap('  rules: [{when: [{key: "request.auth.claims[groups]", values: [admin]}]}]');
    assert.equal((await call(y, bearer(await token({ groups: ['dev', 'admin'] })))).status, 200);
    assert.equal((await call(y, bearer(await token({ groups: ['dev'] })))).status, 403);
  });
  test('nested claims: request.auth.claims[org][team]', async () => {
    const y = RA() + '---' + ap('  rules: [{when: [{key: "request.auth.claims[org][team]", values: [mesh]}]}]');
    assert.equal((await call(y, bearer(await token({ org: { team: 'mesh' } })))).status, 200);
  });
});
