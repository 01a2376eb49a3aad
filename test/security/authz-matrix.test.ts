import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NET, ROOT_NS, SecurityMesh, send, type Outcome } from './mesh-fixture.js';

// The allow/deny matrix of issue 9: PeerAuthentication (mesh, namespace, workload, port level),
// DestinationRule tls, and AuthorizationPolicy (ALLOW / DENY / AUDIT, sources, operations,
// conditions, Istio's evaluation order and empty-rule semantics), each case over real mutual TLS
// between real sidecars and the real control plane and CA (in this process, 127.10.30.0/24).
// Each row applies its policies, pushes the snapshots, sends one request and checks the outcome,
// and, for requests that reached the server, whether they came over mutual TLS and as whom.

type From = 'sleep' | 'other' | 'legacy' | 'direct' | 'direct2';

interface Row {
  name: string;
  yaml?: string;
  from: From;
  port?: number;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** 0: the connection was refused or reset (no HTTP answer). */
  status: number;
  /** For requests the server sidecar saw: over mTLS or not. */
  mtls?: boolean;
  principal?: string;
  details?: string;
}

const SLEEP = 'cluster.local/ns/front/sa/sleep';
const OTHER = 'cluster.local/ns/other/sa/other';

const pa = (ns: string, mode: string, extra = '') => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: pa-${ns}-${mode.toLowerCase()}, namespace: ${ns}}
spec: {mtls: {mode: ${mode}}${extra}}
`;
const paWorkload = (mode: string, portLevel = '') => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: pa-httpbin, namespace: back}
spec:
  selector: {matchLabels: {app: httpbin}}
  ${mode ? `mtls: {mode: ${mode}}` : ''}
  ${portLevel}
`;
const ap = (name: string, spec: string, ns = 'back') => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
`;
const dr = (mode: string) => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin-tls, namespace: front}
spec: {host: httpbin.back.svc.cluster.local, trafficPolicy: {tls: {mode: ${mode}}}}
`;
const ALLOW_SLEEP = ap('allow-sleep', `  action: ALLOW\n  rules: [{from: [{source: {principals: ["${SLEEP}"]}}]}]`);

const ROWS: Row[] = [
  // ---- PeerAuthentication: who may connect, and how
  { name: 'no policy: mTLS by auto mTLS', from: 'sleep', status: 200, mtls: true, principal: SLEEP },
  { name: 'no policy: PERMISSIVE takes a plaintext sidecar', from: 'legacy', status: 200, mtls: false },
  { name: 'no policy: PERMISSIVE takes a plaintext client without sidecar', from: 'direct', status: 200, mtls: false },
  { name: 'mesh STRICT: mTLS client accepted', yaml: pa(ROOT_NS, 'STRICT'), from: 'sleep', status: 200, mtls: true },
  { name: 'mesh STRICT: plaintext sidecar refused (503 UC at the client)', yaml: pa(ROOT_NS, 'STRICT'), from: 'legacy', status: 503 },
  { name: 'mesh STRICT: plaintext connection refused', yaml: pa(ROOT_NS, 'STRICT'), from: 'direct', status: 0 },
  { name: 'namespace STRICT: plaintext refused', yaml: pa('back', 'STRICT'), from: 'legacy', status: 503 },
  { name: 'namespace PERMISSIVE over mesh STRICT', yaml: pa(ROOT_NS, 'STRICT') + '---' + pa('back', 'PERMISSIVE'), from: 'legacy', status: 200, mtls: false },
  { name: 'namespace STRICT in another namespace does not apply', yaml: pa('front', 'STRICT'), from: 'direct', status: 200 },
  { name: 'workload STRICT over namespace PERMISSIVE', yaml: pa('back', 'PERMISSIVE') + '---' + paWorkload('STRICT'), from: 'direct', status: 0 },
  { name: 'workload mode UNSET inherits namespace STRICT', yaml: pa('back', 'STRICT') + '---' + paWorkload('UNSET'), from: 'legacy', status: 503 },
  { name: 'workload PERMISSIVE over mesh STRICT, mTLS still used', yaml: pa(ROOT_NS, 'STRICT') + '---' + paWorkload('PERMISSIVE'), from: 'sleep', status: 200, mtls: true },
  { name: 'port level PERMISSIVE under workload STRICT: that port takes plaintext', yaml: paWorkload('STRICT', 'portLevelMtls: {"9000": {mode: PERMISSIVE}}'), from: 'legacy', port: 9000, status: 200, mtls: false },
  { name: 'port level PERMISSIVE under workload STRICT: other ports stay STRICT', yaml: paWorkload('STRICT', 'portLevelMtls: {"9000": {mode: PERMISSIVE}}'), from: 'legacy', port: 8000, status: 503 },
  { name: 'port level DISABLE: auto mTLS sends plaintext to that port', yaml: paWorkload('STRICT', 'portLevelMtls: {"9000": {mode: DISABLE}}'), from: 'sleep', port: 9000, status: 200, mtls: false },
  { name: 'namespace DISABLE: auto mTLS sends plaintext', yaml: pa('back', 'DISABLE'), from: 'sleep', status: 200, mtls: false },
  { name: 'DestinationRule tls DISABLE towards STRICT: refused', yaml: pa('back', 'STRICT') + '---' + dr('DISABLE'), from: 'sleep', status: 503 },
  { name: 'DestinationRule tls ISTIO_MUTUAL under PERMISSIVE: mTLS', yaml: dr('ISTIO_MUTUAL'), from: 'sleep', status: 200, mtls: true, principal: SLEEP },
  { name: 'DestinationRule tls DISABLE under PERMISSIVE: plaintext', yaml: dr('DISABLE'), from: 'sleep', status: 200, mtls: false },
  // ---- AuthorizationPolicy: sources
  { name: 'ALLOW principals: the named principal', yaml: ALLOW_SLEEP, from: 'sleep', status: 200, mtls: true },
  { name: 'ALLOW principals: another principal is denied', yaml: ALLOW_SLEEP, from: 'other', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'ALLOW principals: plaintext has no principal', yaml: ALLOW_SLEEP, from: 'legacy', status: 403 },
  { name: 'ALLOW namespaces: same namespace', yaml: ap('ns', '  rules: [{from: [{source: {namespaces: [front]}}]}]'), from: 'sleep', status: 200 },
  { name: 'ALLOW namespaces: other namespace denied', yaml: ap('ns', '  rules: [{from: [{source: {namespaces: [front]}}]}]'), from: 'other', status: 403 },
  { name: 'ALLOW notNamespaces', yaml: ap('notns', '  rules: [{from: [{source: {notNamespaces: [other]}}]}]'), from: 'other', status: 403 },
  { name: 'DENY principals with suffix match', yaml: ap('deny-other', '  action: DENY\n  rules: [{from: [{source: {principals: ["*/sa/other"]}}]}]'), from: 'other', status: 403, details: 'rbac_access_denied_matched_policy[ns[back]-policy[deny-other]-rule[0]]' },
  { name: 'DENY principals with suffix match: others pass', yaml: ap('deny-other', '  action: DENY\n  rules: [{from: [{source: {principals: ["*/sa/other"]}}]}]'), from: 'sleep', status: 200 },
  { name: 'DENY is evaluated before ALLOW', yaml: ap('allow-all', '  rules: [{}]') + '---' + ap('deny-front', '  action: DENY\n  rules: [{from: [{source: {namespaces: [front]}}]}]'), from: 'sleep', status: 403 },
  { name: 'ALLOW without rules allows nothing', yaml: ap('allow-nothing', '  action: ALLOW'), from: 'sleep', status: 403 },
  { name: 'DENY without rules denies nothing', yaml: ap('deny-nothing', '  action: DENY'), from: 'sleep', status: 200 },
  { name: 'ALLOW rules [{}] allows all', yaml: ap('allow-all', '  rules: [{}]'), from: 'other', status: 200 },
  { name: 'ALLOW ipBlocks: matching source address', yaml: ap('ip', `  rules: [{from: [{source: {ipBlocks: ["${NET}.13/32"]}}]}]`), from: 'direct', status: 200 },
  { name: 'ALLOW ipBlocks: other address denied', yaml: ap('ip', `  rules: [{from: [{source: {ipBlocks: ["${NET}.13/32"]}}]}]`), from: 'direct2', status: 403 },
  { name: 'DENY notIpBlocks', yaml: ap('notip', `  action: DENY\n  rules: [{from: [{source: {notIpBlocks: ["${NET}.0/28"]}}]}]`), from: 'direct2', status: 403 },
  { name: 'requestPrincipals without a JWT do not match', yaml: ap('jwt', '  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]'), from: 'sleep', status: 403 },
  // ---- operations
  { name: 'ALLOW methods GET: GET passes', yaml: ap('get', '  rules: [{to: [{operation: {methods: [GET]}}]}]'), from: 'sleep', status: 200 },
  { name: 'ALLOW methods GET: POST denied', yaml: ap('get', '  rules: [{to: [{operation: {methods: [GET]}}]}]'), from: 'sleep', method: 'POST', status: 403 },
  { name: 'path template {*}: one segment', yaml: ap('tpl', '  rules: [{to: [{operation: {paths: ["/api/{*}/info"]}}]}]'), from: 'sleep', path: '/api/v1/info', status: 200 },
  { name: 'path template {*}: two segments denied', yaml: ap('tpl', '  rules: [{to: [{operation: {paths: ["/api/{*}/info"]}}]}]'), from: 'sleep', path: '/api/v1/x/info', status: 403 },
  { name: 'path template {**}: many segments', yaml: ap('tpl2', '  rules: [{to: [{operation: {paths: ["/data/{**}"]}}]}]'), from: 'sleep', path: '/data/a/b/c', status: 200 },
  { name: 'path prefix: outside it denied', yaml: ap('pre', '  rules: [{to: [{operation: {paths: ["/public*"]}}]}]'), from: 'sleep', path: '/private/x', status: 403 },
  { name: 'path ignores the query string', yaml: ap('exact', '  rules: [{to: [{operation: {paths: ["/exact"]}}]}]'), from: 'sleep', path: '/exact?a=b', status: 200 },
  { name: 'DENY notPaths: other paths denied', yaml: ap('notpaths', '  action: DENY\n  rules: [{to: [{operation: {notPaths: ["/healthz"]}}]}]'), from: 'sleep', path: '/x', status: 403 },
  { name: 'DENY notPaths: the excluded path passes', yaml: ap('notpaths', '  action: DENY\n  rules: [{to: [{operation: {notPaths: ["/healthz"]}}]}]'), from: 'sleep', path: '/healthz', status: 200 },
  { name: 'ALLOW ports: the allowed port', yaml: ap('ports', '  rules: [{to: [{operation: {ports: ["9000"]}}]}]'), from: 'sleep', port: 9000, status: 200 },
  { name: 'ALLOW ports: another port denied', yaml: ap('ports', '  rules: [{to: [{operation: {ports: ["9000"]}}]}]'), from: 'sleep', port: 8000, status: 403 },
  { name: 'ALLOW hosts: host without port matches the authority', yaml: ap('hosts', '  rules: [{to: [{operation: {hosts: ["HTTPBIN.back"]}}]}]'), from: 'sleep', status: 200 },
  { name: 'ALLOW hosts: another host denied', yaml: ap('hosts', '  rules: [{to: [{operation: {hosts: ["example.com"]}}]}]'), from: 'sleep', status: 403 },
  // ---- conditions
  { name: 'when request.headers: present value', yaml: ap('hdr', '  rules: [{when: [{key: "request.headers[x-user]", values: [alice]}]}]'), from: 'sleep', headers: { 'x-user': 'alice' }, status: 200 },
  { name: 'when request.headers: missing header denied', yaml: ap('hdr', '  rules: [{when: [{key: "request.headers[x-user]", values: [alice]}]}]'), from: 'sleep', status: 403 },
  { name: 'when source.namespace', yaml: ap('srcns', '  rules: [{when: [{key: source.namespace, values: [other]}]}]'), from: 'other', status: 200 },
  { name: 'DENY when source.principal', yaml: ap('deny-sleep', `  action: DENY\n  rules: [{when: [{key: source.principal, values: ["${SLEEP}"]}]}]`), from: 'sleep', status: 403 },
  { name: 'ALLOW when notValues', yaml: ap('notv', `  rules: [{when: [{key: source.principal, notValues: ["${OTHER}"]}]}]`), from: 'other', status: 403 },
  { name: 'when destination.port', yaml: ap('dport', '  rules: [{when: [{key: destination.port, values: ["8000"]}]}]'), from: 'sleep', port: 8000, status: 200 },
  { name: 'from AND to AND when must all hold', yaml: ap('and', `  rules: [{from: [{source: {namespaces: [front]}}], to: [{operation: {methods: [GET]}}], when: [{key: "request.headers[x-user]", values: [bob]}]}]`), from: 'sleep', headers: { 'x-user': 'alice' }, status: 403 },
  // ---- which policies apply
  { name: 'AUDIT never changes the decision', yaml: ap('audit', '  action: AUDIT\n  rules: [{}]'), from: 'other', status: 200 },
  { name: 'root namespace policy applies mesh-wide', yaml: ap('deny-other-mesh', '  action: DENY\n  rules: [{from: [{source: {namespaces: [other]}}]}]', ROOT_NS), from: 'other', status: 403 },
  { name: 'policy selecting another workload does not apply', yaml: ap('sleep-only', '  selector: {matchLabels: {app: sleep}}\n  action: ALLOW'), from: 'other', status: 200 },
  { name: 'policy of another namespace does not apply', yaml: ap('front-nothing', '  action: ALLOW', 'front'), from: 'other', status: 200 },
  { name: 'policy selecting this workload applies', yaml: ap('httpbin-nothing', '  selector: {matchLabels: {app: httpbin}}\n  action: ALLOW'), from: 'other', status: 403 },
  { name: 'STRICT refuses plaintext before any ALLOW', yaml: pa('back', 'STRICT') + '---' + ap('allow-all', '  rules: [{}]'), from: 'legacy', status: 503 },
];

const mesh = new SecurityMesh();

before(async () => {
  await mesh.start();
  await mesh.add('httpbin', 'back', 'httpbin', `${NET}.20`, { ports: [{ port: 8000, app: 8000 }, { port: 9000, app: 9000 }] });
  await mesh.add('sleep', 'front', 'sleep', `${NET}.10`);
  await mesh.add('other', 'other', 'other', `${NET}.11`);
  await mesh.add('legacy', 'front', 'legacy', `${NET}.12`, { certificate: false });
  await mesh.sync();
});

after(() => mesh.stop());

async function run(row: Row, index: number): Promise<Outcome> {
  const port = row.port ?? 8000;
  const base = row.path ?? '/headers';
  const path = `${base}${base.includes('?') ? '&' : '?'}case=${index}`;
  const opts = { method: row.method, headers: row.headers };
  if (row.from === 'direct' || row.from === 'direct2') {
    return send({ address: `${NET}.20`, port }, path, { ...opts, headers: { host: `httpbin.back:${port}`, ...row.headers }, localAddress: row.from === 'direct' ? `${NET}.13` : `${NET}.140` });
  }
  return send({ address: mesh.member(row.from).instance.address, port: 15001 }, `http://httpbin.back:${port}${path}`, opts);
}

describe('security matrix over real mTLS', () => {
  test(`has at least 40 cases (${ROWS.length})`, () => assert.ok(ROWS.length >= 40));

  ROWS.forEach((row, index) => {
    test(`${index}: ${row.name}`, async () => {
      mesh.clearPolicies();
      if (row.yaml) mesh.apply(row.yaml);
      await mesh.sync();
      const out = await run(row, index);
      assert.equal(out.status, row.status, `status (body: ${out.body.slice(0, 120)} ${out.error ?? ''})`);
      if (row.status === 403) assert.equal(out.body, 'RBAC: access denied');
      const seen = mesh.member('httpbin').inbound.filter((s) => s.path.includes(`case=${index}`));
      if (row.status === 0 || (row.status === 503 && row.from !== 'direct')) assert.equal(seen.length, 0, 'the server sidecar never saw the request');
      if (row.mtls !== undefined) {
        assert.equal(seen.length, 1, 'the server sidecar saw the request once');
        assert.equal(seen[0].mtls, row.mtls, 'mutual TLS');
        if (!row.mtls) assert.equal(seen[0].principal, '');
      }
      if (row.principal !== undefined) assert.equal(seen[0].principal, row.principal);
      if (row.details !== undefined) assert.equal(seen.at(-1)?.details, row.details);
    });
  });

  test('CUSTOM is reported as not enforced', async () => {
    mesh.clearPolicies();
    mesh.apply(ap('ext', '  action: CUSTOM\n  provider: {name: ext-authz}\n  rules: [{}]'));
    await mesh.sync();
    assert.ok(mesh.cp.translationNotes().some((n) => n.includes('AuthorizationPolicy back/ext') && n.includes('CUSTOM')));
    const out = await send({ address: `${NET}.10`, port: 15001 }, 'http://httpbin.back:8000/custom');
    assert.equal(out.status, 200);
  });
});
