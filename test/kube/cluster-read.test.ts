import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ConfigStore } from '../../src/config/store.js';
import { readCluster } from '../../src/platform/kube/cluster-state.js';
import { ClusterWatcher } from '../../src/platform/kube/cluster-watch.js';
import { discoverKinds } from '../../src/platform/kube/discovery.js';
import { KubeError } from '../../src/platform/kube/errors.js';
import { KubeClient } from '../../src/platform/kube/kube-client.js';
import { contextNamespace, loadKubeConfig } from '../../src/platform/kube/kubeconfig.js';
import { podInstances } from '../../src/platform/kube/pod-instances.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// The kube platform's reading side against a real HTTPS server answering recorded API
// responses: discovery, lists of every kind, the mesh config from istiod's ConfigMap, pods as
// instances, list+watch into a config store (events, server-side close, 410 Gone), and the
// errors a user meets (RBAC, bad token, no server, unknown context).

let api: RecordedApiServer;
let client: KubeClient;

before(async () => {
  api = await startRecordedApiServer('127.10.40.1');
  client = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfig }));
});
after(() => api?.close());

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('discovery finds the kinds the cluster serves, at the preferred version', async () => {
  const served = await discoverKinds(client);
  assert.equal(served.get('VirtualService')?.apiVersion, 'networking.istio.io/v1');
  assert.equal(served.get('VirtualService')?.plural, 'virtualservices');
  assert.equal(served.get('Pod')?.apiVersion, 'v1');
  assert.equal(served.get('Namespace')?.namespaced, false);
  assert.equal(served.get('Deployment')?.plural, 'deployments');
  assert.equal(served.get('Telemetry')?.apiVersion, 'telemetry.istio.io/v1');
  // The Gateway API CRDs are not installed in the recorded cluster.
  assert.equal(served.has('HTTPRoute'), false);
  assert.equal(served.has('KubernetesGateway'), false);
});

test('readCluster: every kind, objects as a file would hold them, the mesh config from the cluster', async () => {
  const state = await readCluster(client);
  const byKind = (k: string) => state.loaded.resources.filter((r) => r.info.id === k);
  assert.deepEqual(byKind('VirtualService').map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort(), ['bookinfo/bookinfo', 'bookinfo/ratings', 'bookinfo/reviews']);
  const pod = byKind('Pod').find((p) => p.metadata.name.startsWith('productpage-v1-'))!;
  // List items of built-in kinds come without apiVersion/kind; they are filled from the List.
  assert.equal(pod.raw.apiVersion, 'v1');
  assert.equal(pod.raw.kind, 'Pod');
  assert.equal(pod.raw.metadata.managedFields, undefined, 'managedFields are dropped');
  assert.equal(pod.origin.file, '', 'cluster objects have no file');
  // kube-system is never analyzed (Istio's ignored namespaces).
  assert.ok(!state.loaded.resources.some((r) => r.metadata.namespace === 'kube-system' || (r.info.id === 'Namespace' && r.metadata.name === 'kube-system')));
  assert.equal(state.meshConfigFromCluster, true);
  assert.equal(state.meshConfig.rootNamespace, 'istio-system');
  assert.deepEqual(state.meshConfig.defaultProviders, { metrics: ['prometheus'] });
  assert.equal(state.resourceVersions.get('Pod'), '4147');
  assert.deepEqual(state.loaded.errors, []);
});

test('pods become instances named as Istio names workloads', async () => {
  const state = await readCluster(client, { kinds: ['Pod'] });
  const inst = podInstances(state.objects.get('Pod')!);
  const r2 = inst.find((i) => i.labels.app === 'reviews' && i.labels.version === 'v2')!;
  assert.equal(r2.workload, 'reviews-v2', 'the Deployment name, from the ReplicaSet owner less the pod-template-hash');
  assert.equal(r2.name, 'reviews-v2-5b667bcbf8-vn7r4');
  assert.equal(r2.address, '10.244.2.8');
  assert.equal(r2.healthy, true);
  assert.deepEqual(r2.ports.map((p) => p.port), [9080], 'the istio-proxy container\'s ports are not the application\'s');
  assert.equal(inst.find((i) => i.workload === 'istiod')?.namespace, 'istio-system');
});

test('list+watch keeps a config store equal to the cluster', { timeout: 60_000 }, async () => {
  const store = new ConfigStore();
  const served = await discoverKinds(client);
  const watcher = new ClusterWatcher(client, store, [served.get('VirtualService')!, served.get('DestinationRule')!], { backoffMs: 10 });
  try {
    await watcher.start();
    assert.equal(store.list('VirtualService').length, 3);
    const v0 = store.version;
    api.put('virtualservices', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'details', namespace: 'bookinfo', uid: 'u-details' }, spec: { hosts: ['details'], http: [{ route: [{ destination: { host: 'details', subset: 'v1' } }] }] } });
    await until('ADDED reaches the store', () => store.get('VirtualService', 'bookinfo', 'details') !== undefined);
    api.remove('virtualservices', 'bookinfo', 'ratings');
    await until('DELETED reaches the store', () => store.get('VirtualService', 'bookinfo', 'ratings') === undefined);
    assert.equal(store.changesSince(v0).length, 2);

    // The server ends the watches; they resume from the last resourceVersion without replaying.
    const reconnects = watcher.counts.reconnects;
    api.endWatches();
    await until('watches resumed', () => watcher.counts.reconnects >= reconnects + 2);
    const rv = store.version;
    api.put('destinationrules', { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'extra', namespace: 'bookinfo', uid: 'u-extra' }, spec: { host: 'extra' } });
    await until('an event after the reconnect', () => store.get('DestinationRule', 'bookinfo', 'extra') !== undefined);
    assert.equal(store.changesSince(rv).length, 1, 'nothing replayed twice');

    // History compacted while disconnected: 410 Gone, then a relist that only changes what changed.
    api.compact();
    api.remove('destinationrules', 'bookinfo', 'extra');
    api.compact();
    const before410 = store.version;
    api.endWatches();
    await until('relisted after 410 Gone', () => watcher.counts.relists >= 1 && store.get('DestinationRule', 'bookinfo', 'extra') === undefined);
    const after = store.changesSince(before410);
    assert.deepEqual(after.map((c) => `${c.type} ${c.key}`), ['deleted DestinationRule/bookinfo/extra'], 'unchanged objects are not touched by the relist');
  } finally {
    watcher.stop();
  }
});

test('a failing watch backs off on the injected clock, then resumes from where it was', { timeout: 60_000 }, async () => {
  const clock = new ManualClock(1_000_000);
  const store = new ConfigStore();
  const served = await discoverKinds(client);
  const watcher = new ClusterWatcher(client, store, [served.get('Gateway')!], { clock, backoffMs: 500, maxBackoffMs: 2000 });
  let lift = () => undefined as void;
  try {
    await watcher.start();
    lift = api.forbid('/apis/networking.istio.io/v1/gateways');
    api.endWatches();
    // A clean end resumes at once; each refused watch doubles the delay, up to the cap.
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      delays.push(await clock.nextArmed());
      if (i < 4) await clock.fireNext();
    }
    assert.deepEqual(delays, [0, 500, 1000, 2000, 2000]);
    // The last delay is armed: the watch before it was refused. Allowed again, the next one runs.
    lift();
    await clock.fireNext();
    api.put('gateways', { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'late', namespace: 'bookinfo', uid: 'u-late' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } });
    await until('the resumed watch delivers', () => store.get('Gateway', 'bookinfo', 'late') !== undefined);
    assert.equal(watcher.counts.relists, 0, 'resumed from its resourceVersion, no relist');
  } finally {
    lift();
    watcher.stop();
  }
});

test('errors a user meets are typed, with one clear message', async () => {
  // A kind the role may not list is read as absent and said so; other errors stop the read.
  const lift = api.forbid('/apis/security.istio.io/v1/peerauthentications');
  const partial = await readCluster(client);
  assert.deepEqual(partial.unreadable.map((u) => u.kind), ['PeerAuthentication']);
  assert.match(partial.unreadable[0].reason, /cannot list/);
  assert.ok(partial.loaded.resources.some((r) => r.info.id === 'VirtualService'));
  lift();
  const badToken = `${api.kubeconfig}.bad`;
  writeFileSync(badToken, readFileSync(api.kubeconfig, 'utf8').replace(api.token, 'wrong'));
  await assert.rejects(new KubeClient(loadKubeConfig({ kubeconfig: badToken })).get('/apis'), (e: unknown) => e instanceof KubeError && e.code === 'E_KUBE_FORBIDDEN' && e.status === 401);
  assert.throws(() => loadKubeConfig({ kubeconfig: api.kubeconfig, context: 'nope' }), (e: unknown) => e instanceof KubeError && e.code === 'E_KUBE_CONFIG' && /recorded, elsewhere/.test(e.message));
  assert.throws(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }), (e: unknown) => e instanceof KubeError && e.code === 'E_KUBE_CONFIG');
  assert.equal(contextNamespace(loadKubeConfig({ kubeconfig: api.kubeconfig })), 'bookinfo');
  assert.equal(contextNamespace(loadKubeConfig({ kubeconfig: api.kubeconfig, context: 'elsewhere' })), 'default');
  const down = `${api.kubeconfig}.down`;
  writeFileSync(down, `apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: c, cluster: {server: 'https://127.10.40.9:1', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n`);
  await assert.rejects(new KubeClient(loadKubeConfig({ kubeconfig: down })).get('/apis'), (e: unknown) => e instanceof KubeError && e.code === 'E_KUBE_UNREACHABLE');
});
