import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { runCliAsync } from './cli-async.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// Done when: `meshmedic analyze --platform kube` on recorded cluster state matches `analyze` on
// the same objects as files. The files are what `kubectl get <kind> -A -o yaml` writes for the
// recorded lists (apiVersion and kind on every item, no managedFields), the mesh config is
// istiod's ConfigMap given as --meshconfig, as istioctl is told without a cluster. Then
// istioctl's overlay (files over the cluster) and the errors a user meets.

let api: RecordedApiServer;
let dir: string;
let kube: string[];

const LISTS = ['namespaces', 'services', 'serviceaccounts', 'pods', 'configmaps', 'deployments', 'virtualservices', 'destinationrules', 'gateways', 'peerauthentications'];

before(async () => {
  api = await startRecordedApiServer('127.10.40.2');
  kube = ['--platform', 'kube', '--kubeconfig', api.kubeconfig];
  dir = mkdtempSync(join(tmpdir(), 'mm-kube-files-'));
  for (const plural of LISTS) {
    const items = api.objects(plural).map((o) => {
      const { managedFields: _m, ...metadata } = o.metadata;
      return { apiVersion: o.apiVersion ?? apiVersionOf(plural), kind: o.kind ?? kindOf(plural), ...o, metadata };
    });
    writeFileSync(join(dir, `${plural}.yaml`), stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }));
  }
  const cm = api.objects('configmaps').find((c) => c.metadata.name === 'istio')!;
  writeFileSync(join(dir, '..', `${dir.split('/').pop()}-mesh.yaml`), stringify({ apiVersion: 'v1', kind: 'ConfigMap', ...cm }));
});

after(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-mesh.yaml`, { force: true });
});

function apiVersionOf(plural: string): string {
  return plural === 'deployments' ? 'apps/v1' : 'v1';
}
function kindOf(plural: string): string {
  return { namespaces: 'Namespace', services: 'Service', serviceaccounts: 'ServiceAccount', pods: 'Pod', configmaps: 'ConfigMap', deployments: 'Deployment' }[plural]!;
}

type Out = Array<Record<string, string>>;
const parse = (s: string): Out => (s.trim() ? JSON.parse(s) : []);
const withoutReference = (o: Out) => o.map(({ reference: _r, ...m }) => m);

for (const scope of [['-A'], ['-n', 'bookinfo'], ['-n', 'istio-system']]) {
  test(`analyze --platform kube ${scope.join(' ')} matches analyze of the same objects as files`, async () => {
    const files = await runCliAsync(['analyze', ...scope, '-o', 'json', '--meshconfig', `${dir}-mesh.yaml`, dir]);
    const cluster = await runCliAsync(['analyze', ...kube, ...scope, '-o', 'json']);
    assert.equal(cluster.code, files.code, `same exit code\nfiles: ${files.stderr}\ncluster: ${cluster.stderr}`);
    const [f, c] = [parse(files.stdout), parse(cluster.stdout)];
    assert.deepEqual(c, withoutReference(f));
    assert.ok(c.every((m) => m.reference === undefined), 'cluster objects have no file:line');
    if (scope[0] === '-A') {
      assert.equal(cluster.code, 79);
      const codes = c.map((m) => `${m.code} ${m.origin}`);
      for (const want of ['IST0101 VirtualService bookinfo/reviews', 'IST0118 Service bookinfo/ratings']) assert.ok(codes.includes(want), `${want} in ${codes.join(', ')}`);
    }
  });
}

test('log output: the same lines, the namespace from the kubeconfig context when -n is not given', async () => {
  const files = await runCliAsync(['analyze', '-n', 'bookinfo', '--meshconfig', `${dir}-mesh.yaml`, dir]);
  const cluster = await runCliAsync(['analyze', ...kube]);
  const strip = (s: string) => s.replace(/ \S+\.yaml:\d+\)/g, ')');
  assert.equal(cluster.stdout, strip(files.stdout));
  assert.match(cluster.stderr, /when analyzing namespace: bookinfo\./);
  // The other context names no namespace: `default`.
  const other = await runCliAsync(['analyze', ...kube, '--context', 'elsewhere']);
  assert.doesNotMatch(other.stdout, /VirtualService bookinfo\/reviews/);
});

test('files overlay the cluster, as istioctl analyze does', async () => {
  const fix = join(dir, '..', 'mm-fix-reviews.yaml');
  writeFileSync(fix, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: bookinfo}
spec:
  hosts: [details]
  http:
  - route:
    - destination: {host: details, subset: v9}
`);
  try {
    const r = await runCliAsync(['analyze', ...kube, '-n', 'bookinfo', '-o', 'json', '-f', fix]);
    const out = parse(r.stdout);
    const codes = out.map((m) => `${m.code} ${m.origin}`);
    assert.ok(!codes.includes('IST0101 VirtualService bookinfo/reviews'), 'the file\'s reviews replaces the cluster\'s');
    const details = out.find((m) => m.origin === 'VirtualService bookinfo/details');
    assert.equal(details?.code, 'IST0101');
    assert.match(details!.reference, /mm-fix-reviews\.yaml:\d+$/, 'a file\'s object keeps its file:line');
    assert.ok(codes.includes('IST0118 Service bookinfo/ratings'), 'the cluster\'s other objects are still analyzed');
  } finally {
    rmSync(fix, { force: true });
  }
});

test('cluster errors: one line with a stable code, no stack trace', async () => {
  const ctx = await runCliAsync(['analyze', ...kube, '--context', 'nope']);
  assert.equal(ctx.code, 1);
  assert.match(ctx.stderr, /^Error: context "nope" is not in the kubeconfig .*\[E_KUBE_CONFIG\]\n$/);
  // RBAC that does not allow a kind: said once, the rest analyzed.
  api.forbid('/api/v1/secrets');
  const partial = await runCliAsync(['analyze', ...kube]);
  assert.equal(partial.code, 79);
  assert.match(partial.stderr, /^Note: Secret not read \(RBAC: GET \/api\/v1\/secrets\?limit=500: .*forbidden.*\); analyzers that need it are skipped$/m);
  assert.match(partial.stdout, /IST0101/);
  // A wrong token is an error: nothing can be read.
  const bad = join(dir, '..', 'mm-bad-kubeconfig');
  writeFileSync(bad, readFileSync(api.kubeconfig, 'utf8').replace(api.token, 'wrong'));
  const denied = await runCliAsync(['analyze', '--platform', 'kube', '--kubeconfig', bad]);
  rmSync(bad, { force: true });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^Error: GET \/apis: Unauthorized \[E_KUBE_FORBIDDEN\]\n$/);
  const other = await runCliAsync(['status', ...kube]);
  assert.equal(other.code, 64, 'a command without a kube form refuses rather than act on the local mesh');
  assert.match(other.stderr, /status has no --platform kube form/);
  const usage = await runCliAsync(['analyze', ...kube, '--window', '1m']);
  assert.equal(usage.code, 64);
  assert.match(usage.stderr, /--prometheus/);
});
