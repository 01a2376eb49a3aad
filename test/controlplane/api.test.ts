import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { instance } from './fixtures.js';

// The control plane's HTTP API as the CLI uses it, over a real socket on 127.10.203.1:
// apply (all or nothing, kubectl-style actions), get, delete, proxy-status, registry.

const HOST = '127.10.203.1';
let cp: ControlPlane;
let url: string;

before(async () => {
  cp = new ControlPlane({ host: HOST, port: 0 });
  url = (await cp.start()).url;
});

after(async () => {
  await cp.stop();
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/yaml' } });
  return { status: res.status, json: await res.json() };
}

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
`;

const actions = (json: any) => json.applied.map((a: any) => `${a.kind}/${a.namespace}/${a.name}=${a.action}`);

test('apply: created, then unchanged, then configured, each as one store version', async () => {
  const first = await call('POST', '/api/v1/apply?namespace=bookinfo&file=reviews.yaml', CONFIG);
  assert.equal(first.status, 200);
  assert.deepEqual(actions(first.json), ['Service/bookinfo/reviews=created', 'DestinationRule/bookinfo/reviews=created', 'VirtualService/bookinfo/reviews=created']);
  const v1 = first.json.version;
  assert.equal(v1, cp.store.version);

  const again = await call('POST', '/api/v1/apply?namespace=bookinfo&file=reviews.yaml', CONFIG);
  assert.deepEqual(actions(again.json), ['Service/bookinfo/reviews=unchanged', 'DestinationRule/bookinfo/reviews=unchanged', 'VirtualService/bookinfo/reviews=unchanged']);
  assert.equal(again.json.version, v1);

  const changed = await call('POST', '/api/v1/apply?namespace=bookinfo', CONFIG.replace('subset: v1}', 'subset: v2}'));
  assert.deepEqual(actions(changed.json), ['Service/bookinfo/reviews=unchanged', 'DestinationRule/bookinfo/reviews=unchanged', 'VirtualService/bookinfo/reviews=configured']);
  assert.equal(changed.json.version, v1 + 1);
  assert.equal(cp.store.get('VirtualService', 'bookinfo', 'reviews')?.spec.http[0].route[0].destination.subset, 'v2');
});

// The valid Service takes lines 1-4 and `---` line 5, so the invalid document starts at line 6.
const INVALID_CASES: Array<{ name: string; doc: string; code: string; line: number }> = [
  {
    name: 'Istio validation (route and redirect together)',
    doc: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec:\n  hosts: [ratings]\n  http: [{redirect: {uri: /x}, route: [{destination: {host: ratings}}]}]\n',
    code: 'IST0106',
    line: 6,
  },
  { name: 'schema (hosts not a list)', doc: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec: {hosts: ratings}\n', code: 'E_SCHEMA', line: 9 },
  { name: 'YAML syntax', doc: 'apiVersion: v1\nkind: Service\nmetadata: {name: [\n', code: 'E_YAML_PARSE', line: 9 },
  { name: 'unknown Istio kind', doc: 'apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: broken}\nspec: {}\n', code: 'E_UNKNOWN_KIND', line: 6 },
];

for (const c of INVALID_CASES) {
  test(`apply: one invalid document (${c.name}) rejects the whole input and the store is unchanged`, async () => {
    const before = cp.store.version;
    const good = 'apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}\n';
    const res = await call('POST', '/api/v1/apply?namespace=bookinfo&file=mixed.yaml', `${good}---\n${c.doc}`);
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'E_INVALID_CONFIG');
    assert.ok(res.json.errors.length >= 1);
    const e = res.json.errors.find((x: any) => x.code === c.code);
    assert.ok(e, JSON.stringify(res.json.errors));
    assert.equal(e.reference, `mixed.yaml:${c.line}`);
    assert.ok(e.message.length > 0);
    assert.deepEqual(res.json.error.details, res.json.errors);
    assert.equal(cp.store.version, before);
    assert.equal(cp.store.get('Service', 'bookinfo', 'ratings'), undefined);
  });
}

test('get: by kind (any spelling), namespace and name, as written', async () => {
  for (const kind of ['VirtualService', 'virtualservices', 'vs']) {
    const res = await call('GET', `/api/v1/resources?kind=${kind}&namespace=bookinfo`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.items.map((i: any) => i.name), ['reviews']);
  }
  const one = await call('GET', '/api/v1/resources?kind=dr&namespace=bookinfo&name=reviews');
  assert.equal(one.json.items[0].raw.spec.host, 'reviews');
  assert.equal(one.json.items[0].raw.metadata.namespace, undefined); // as written: the namespace came from the request
  assert.equal(one.json.items[0].namespace, 'bookinfo');
  assert.deepEqual(one.json.items[0].origin, { file: 'reviews.yaml', line: 7 });
  assert.equal((await call('GET', '/api/v1/resources?kind=vs&namespace=other')).json.items.length, 0);
  const missing = await call('GET', '/api/v1/resources?kind=vs&namespace=bookinfo&name=nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'E_NOT_FOUND');
  const unknown = await call('GET', '/api/v1/resources?kind=frobnicator');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error.code, 'E_UNKNOWN_KIND');
});

test('delete: removes what the text names and reports what was not there', async () => {
  const text = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ghost}\n';
  const res = await call('POST', '/api/v1/delete?namespace=bookinfo', text);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json.deleted.map((d: any) => `${d.name}=${d.action}`), ['reviews=deleted', 'ghost=not found']);
  assert.equal(cp.store.get('DestinationRule', 'bookinfo', 'reviews'), undefined);
  assert.equal((await call('GET', '/api/v1/resources?kind=dr&namespace=bookinfo&name=reviews')).status, 404);
});

test('registry, proxy-status and proxy config: a registered instance is a known, disconnected proxy', async () => {
  const reg = await call('POST', '/api/v1/instances', JSON.stringify(instance('reviews-v1-0', 'reviews', 'v1', { address: '127.10.203.10' })));
  assert.equal(reg.status, 200);
  assert.equal(reg.json.node, 'reviews-v1-0.bookinfo');
  const registry = await call('GET', '/api/v1/registry');
  assert.deepEqual(registry.json.instances.map((i: any) => i.name), ['reviews-v1-0']);
  assert.ok(registry.json.services.some((s: any) => s.hostname === 'reviews.bookinfo.svc.cluster.local'));
  const ps = await call('GET', '/api/v1/proxy-status');
  const p = ps.json.proxies.find((x: any) => x.node === 'reviews-v1-0.bookinfo');
  assert.equal(p.status, 'DISCONNECTED');
  assert.equal(p.workload, 'reviews-v1');
  assert.match(p.current, /^1-/);
  // Nothing sent yet; the current snapshot is there on request.
  assert.equal((await call('GET', '/api/v1/proxies/reviews-v1-0.bookinfo/config')).status, 404);
  const current = await call('GET', '/api/v1/proxies/reviews-v1-0.bookinfo/config?view=current');
  assert.equal(current.json.node.address, '127.10.203.10');
  assert.deepEqual(
    current.json.endpoints.find((e: any) => e.clusterName === 'outbound|9080||reviews.bookinfo.svc.cluster.local').endpoints.map((e: any) => e.instance),
    ['reviews-v1-0'],
  );
  const bad = await call('POST', '/api/v1/instances', JSON.stringify({ name: 'Bad Name', namespace: 'bookinfo' }));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'E_INSTANCE_INVALID');
  assert.equal((await call('DELETE', '/api/v1/instances/bookinfo/reviews-v1-0')).status, 200);
  assert.equal((await call('DELETE', '/api/v1/instances/bookinfo/reviews-v1-0')).status, 404);
});

test('status and errors: JSON everywhere, proper codes', async () => {
  const st = await call('GET', '/api/v1/status');
  assert.equal(st.status, 200);
  assert.equal(st.json.configVersion, cp.store.version);
  assert.ok(Array.isArray(st.json.notes));
  const nf = await call('GET', '/api/v1/nothing');
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.code, 'E_NOT_FOUND');
  const method = await call('GET', '/api/v1/apply');
  assert.equal(method.status, 405);
  assert.equal(method.json.error.code, 'E_METHOD');
  const empty = await call('POST', '/api/v1/apply', '# nothing here\n');
  assert.equal(empty.status, 400);
  assert.equal(empty.json.errors[0].code, 'E_NO_RESOURCES');
});
