import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, friendlyName } from '../../src/api/resource.js';
import { parseText, splitDocuments } from '../../src/config/loader.js';

const opts = { defaultNamespace: 'default' };

test('multi-document YAML keeps each resource file and line', () => {
  const text = `# leading comment
apiVersion: v1
kind: Service
metadata:
  name: a
---
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: b
  namespace: shop
spec:
  hosts: [b]
  http:
  - route:
    - destination:
        host: b
`;
  const r = parseText(text, 'f.yaml', opts);
  assert.deepEqual(r.errors, []);
  assert.equal(r.resources.length, 2);
  const [svc, vs] = r.resources;
  assert.equal(svc.origin.line, 2);
  assert.equal(friendlyName(svc), 'Service default/a');
  assert.equal(vs.origin.line, 8);
  assert.equal(vs.info.id, 'VirtualService'); // v1beta1 is an alias of the same kind
  assert.equal(lineOf(vs, ['spec', 'http', 0, 'route', 0, 'destination', 'host']), 18);
  assert.equal(lineOf(vs, ['spec', 'hosts']), 14);
  // A path that does not exist falls back to its nearest existing ancestor.
  assert.equal(lineOf(vs, ['spec', 'http', 0, 'timeout']), 16);
});

test('kind: List is expanded, and items keep their own lines', () => {
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: one
    namespace: ignored
- apiVersion: v1
  kind: Service
  metadata:
    name: two
`;
  const r = parseText(text, 'l.yaml', { defaultNamespace: '' });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.resources.map(friendlyName), ['Namespace one', 'Service two']); // cluster-scoped: no namespace
  assert.deepEqual(r.resources.map((x) => x.origin.line), [4, 9]);
});

test('JSON input is read', () => {
  const r = parseText('{"apiVersion":"v1","kind":"Service","metadata":{"name":"j"}}', 'x.json', opts);
  assert.equal(friendlyName(r.resources[0]), 'Service default/j');
});

test('errors carry file, line and field; unknown foreign kinds are skipped, unknown Istio kinds are errors', () => {
  const r = parseText(`apiVersion: v1
kind: Service
metadata:
  name: ok
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
---
apiVersion: networking.istio.io/v1
kind: VirtualServise
metadata:
  name: typo
---
kind: Service
metadata:
  name: noapi
---
- just
- a list
`, 'e.yaml', opts);
  assert.equal(r.resources.length, 1);
  assert.deepEqual(r.skipped.map((s) => `${s.kind}@${s.line}`), ['Widget@6']);
  assert.deepEqual(r.errors.map((e) => e.format()), [
    'e.yaml:11: kind: unknown kind VirtualServise in networking.istio.io/v1 [E_UNKNOWN_KIND]',
    'e.yaml:16: apiVersion: apiVersion is required [E_MISSING_FIELD]',
    'e.yaml:20: document is not a mapping (expected apiVersion, kind, metadata) [E_NOT_OBJECT]',
  ]);
});

test('a YAML syntax error gives the line where it is', () => {
  const r = parseText('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: [\n', 'bad.yaml', opts);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].code, 'E_YAML_PARSE');
  assert.ok(r.errors[0].position!.line >= 7, r.errors[0].format());
});

test('system namespaces are dropped, as Istio does', () => {
  const r = parseText('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: kube-system\n', 's.yaml', opts);
  assert.equal(r.resources.length, 0);
});

test('splitDocuments only splits on real document markers', () => {
  const chunks = splitDocuments('a: 1\n---\nb: "---"\n----\n--- \nc: 3\n');
  assert.deepEqual(chunks.map((c) => c.firstLine), [1, 2, 5]);
});
