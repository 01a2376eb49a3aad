import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ConfigStore } from '../../src/config/store.js';
import type { RankedCause } from '../../src/diagnosis/model.js';
import { ClusterWatcher } from '../../src/platform/kube/cluster-watch.js';
import { ConfigHistory, historyFile } from '../../src/platform/kube/config-history.js';
import { readCluster } from '../../src/platform/kube/cluster-state.js';
import { discoverKinds } from '../../src/platform/kube/discovery.js';
import { KubeClient } from '../../src/platform/kube/kube-client.js';
import { KubePlatform } from '../../src/platform/kube/kube-platform.js';
import { loadKubeConfig } from '../../src/platform/kube/kubeconfig.js';
import { actionRequests, ACTION_LABEL, DELETION_COST_ANNOTATION, QUARANTINED_LABEL, rolloutRestartRequest } from '../../src/platform/kube/recovery-requests.js';
import type { ActionKind } from '../../src/recovery/model.js';
import { planRecovery } from '../../src/recovery/planner.js';
import { ACTIONS } from '../../src/recovery/actions/registry.js';
import { clusterView, planContext, type KubePlannedAction } from '../../src/cli/recover-kube.js';
import { runCliAsync } from './cli-async.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// Done when: `meshmedic recover --platform kube --dry-run` on recorded cluster state prints valid
// Istio YAML for each action type. Three cause files (config causes, platform causes, config
// changes) reach every registered action; revert-config's history is recorded by a watch (as the
// controller runs it) in the state database, which the later CLI run reads. Every object it would apply goes through `meshmedic analyze` (schema validation: a bad field
// exits 65), nothing is written to the cluster. Then the kube platform carries the actions out
// against the same server: server-side apply with field manager meshmedic and the action label,
// exact revert, quarantine and its lifting, pod restart, rollout restart, scale and its undo.

const fixtures = fileURLToPath(new URL('../../../test/kube/fixtures/', import.meta.url));
let api: RecordedApiServer;
let dir: string;

before(async () => {
  api = await startRecordedApiServer('127.10.40.3');
  dir = mkdtempSync(join(tmpdir(), 'mm-kube-recover-'));
});
after(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfig }));

/**
 * The change history a later run reads: a watch with the history recorder (as the controller
 * runs it) sees ratings' VirtualService change (MODIFIED) and a new one created (ADDED), both
 * replayed by the recorded API server's watch stream.
 */
async function recordChanges(home: string): Promise<{ original: Record<string, any> }> {
  const c = client();
  const history = new ConfigHistory(historyFile(home), c.serverUrl);
  const served = await discoverKinds(c);
  const watcher = new ClusterWatcher(c, new ConfigStore(), [...served.values()].filter((k) => ['VirtualService', 'DestinationRule'].includes(k.info.id)), { backoffMs: 10, history });
  const original = structuredClone(api.objects('virtualservices').find((o) => o.metadata.name === 'ratings')!);
  try {
    await watcher.start();
    const broken = structuredClone(original);
    broken.spec.http[0].route[0].destination.subset = 'v9';
    api.put('virtualservices', broken);
    api.put('virtualservices', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'ratings-mirror', namespace: 'bookinfo' }, spec: { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings', subset: 'v1' } }], mirror: { host: 'ratings', subset: 'v1' } }] } });
    const deadline = Date.now() + 5000;
    while (history.versionsOf('VirtualService', 'bookinfo', 'ratings').length < 2 || history.versionsOf('VirtualService', 'bookinfo', 'ratings-mirror').length < 1) {
      assert.ok(Date.now() < deadline, 'the watch events reach the history');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    watcher.stop();
    history.close();
  }
  return { original };
}

test('recover --platform kube --dry-run prints valid Istio YAML for each action type, and writes nothing', async () => {
  const home = join(dir, 'home');
  const env = { MESHMEDIC_HOME: home };
  const { original } = await recordChanges(home);
  const seen = new Set<ActionKind>();
  const applied: unknown[] = [];
  const reverts: KubePlannedAction[] = [];
  for (const file of ['causes-config.json', 'causes-platform.json', 'causes-revert.json']) {
    const before = api.requests.length;
    const r = await runCliAsync(['recover', '--platform', 'kube', '--kubeconfig', api.kubeconfig, '--dry-run', '--causes', join(fixtures, file), '-o', 'yaml'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(api.requests.slice(before).filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`), [], 'a dry run sends only GETs');
    const plan = parse(r.stdout) as { actions: KubePlannedAction[]; notes: string[] };
    for (const a of plan.actions) {
      seen.add(a.kind);
      if (a.kind === 'revert-config') reverts.push(a);
      assert.ok(a.requests.length > 0, `${a.kind} has requests`);
      assert.equal(a.rejected, undefined, `${a.kind} passes the safety limits: ${a.rejected}`);
      for (const q of a.requests) {
        if (q.contentType === 'application/apply-patch+yaml') {
          assert.match(q.path, /^\/apis\/networking\.istio\.io\/v1\/namespaces\/bookinfo\/(virtualservices|destinationrules)\/[a-z0-9-]+$/);
          assert.equal(q.body!.metadata.labels[ACTION_LABEL], `dry-run-${plan.actions.indexOf(a) + 1}`);
          assert.equal(q.body!.metadata.resourceVersion, undefined);
          applied.push(q.body);
        }
      }
    }
    // The log form prints the same YAML documents.
    const log = await runCliAsync(['recover', '--platform', 'kube', '--kubeconfig', api.kubeconfig, '--dry-run', '--causes', join(fixtures, file)], env);
    assert.equal(log.code, 0, log.stderr);
    for (const a of plan.actions) assert.ok(log.stdout.includes(`# ${a.kind}: ${a.summary}`));
  }
  assert.deepEqual([...seen].sort(), ACTIONS.map((d) => d.kind).sort(), 'every registered action type');
  // revert-config from the recorded history: ratings' previous spec applied back (server-side
  // apply, labelled), the VirtualService meshmedic saw created deleted.
  const back = reverts.flatMap((a) => a.requests).find((q) => q.path.endsWith('/virtualservices/ratings'))!;
  assert.equal(back.method, 'PATCH');
  assert.deepEqual(back.body!.spec, original.spec, 'the object as it was before the change');
  const gone = reverts.flatMap((a) => a.requests).find((q) => q.path.endsWith('/virtualservices/ratings-mirror'))!;
  assert.equal(gone.method, 'DELETE');
  // Without the history (another state directory: a first look at the cluster) there is nothing to revert.
  const fresh = await runCliAsync(['recover', '--platform', 'kube', '--kubeconfig', api.kubeconfig, '--dry-run', '--causes', join(fixtures, 'causes-revert.json'), '-o', 'json'], { MESHMEDIC_HOME: join(dir, 'fresh') });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.deepEqual((JSON.parse(fresh.stdout) as { actions: unknown[] }).actions, []);
  // analyze's own validation of everything the plans would apply.
  const file = join(dir, 'applied.yaml');
  writeFileSync(file, applied.map((o) => stringify(o)).join('---\n'));
  const check = await runCliAsync(['analyze', '-A', file]);
  assert.ok(check.code === 0 || check.code === 79, `analyze accepts the planned objects (exit ${check.code}):\n${check.stderr}`);
  assert.doesNotMatch(check.stderr, /E_SCHEMA|E_UNKNOWN_KIND|E_MISSING_FIELD/);
  // And a broken object would have been caught: the same check fails on a bad field.
  writeFileSync(file, stringify({ ...(applied[0] as object), spec: { hosts: 'reviews', http: [{ route: [{ destination: { host: 'reviews' }, weight: 'half' }] }] } }));
  assert.equal((await runCliAsync(['analyze', '-A', file])).code, 65);
  // The cluster as the other tests expect it.
  api.put('virtualservices', original);
  api.remove('virtualservices', 'bookinfo', 'ratings-mirror');
});

test('the kube platform carries actions out with the requests the dry run shows', async () => {
  const c = client();
  const platform = new KubePlatform(c, { scaleWaitMs: 5000, pollMs: 50 });
  const state = await readCluster(c);
  const causes = JSON.parse((await import('node:fs')).readFileSync(join(fixtures, 'causes-config.json'), 'utf8')).causes as RankedCause[];
  const plan = planRecovery({ id: 'i1', causes }, planContext(state, causes));
  const shift = plan.actions.find((a) => a.kind === 'shift-traffic')!;
  const failover = plan.actions.find((a) => a.kind === 'failover-external')!;
  const originalReviews = structuredClone(api.objects('virtualservices').find((o) => o.metadata.name === 'reviews')!);

  // Config: server-side apply, field manager meshmedic, forced, labelled with the action.
  const mark = api.requests.length;
  await platform.applyConfig([...shift.config, ...failover.config], 'a1');
  const applies = api.requests.slice(mark).filter((q) => q.method === 'PATCH');
  assert.ok(applies.length >= 2);
  for (const q of applies) {
    assert.equal(q.contentType, 'application/apply-patch+yaml');
    assert.deepEqual([q.query.fieldManager, q.query.force], ['meshmedic', 'true']);
  }
  const reviews = api.objects('virtualservices').find((o) => o.metadata.name === 'reviews')!;
  assert.equal(reviews.metadata.labels[ACTION_LABEL], 'a1');
  assert.equal(reviews.metadata.managedFields[0].manager, 'meshmedic');
  assert.deepEqual(reviews.spec, shift.config.find((x) => x.kind === 'VirtualService')!.raw!.spec);
  assert.ok(api.objects('virtualservices').some((o) => o.metadata.name === 'api-payments-example-failover'));
  // The same bodies the dry run prints.
  const dry = actionRequests(clusterView(state), shift, 'a1').filter((r) => r.method === 'PATCH');
  assert.deepEqual(applies.slice(0, dry.length).map((q) => q.body), dry.map((r) => r.body));

  // Revert: each previous object applied back (the action label goes), what was new deleted.
  await platform.revertConfig([...shift.config, ...failover.config]);
  const back = api.objects('virtualservices').find((o) => o.metadata.name === 'reviews')!;
  assert.deepEqual(back.spec, originalReviews.spec);
  assert.equal(back.metadata.labels?.[ACTION_LABEL], undefined);
  assert.ok(!api.objects('virtualservices').some((o) => o.metadata.name === 'api-payments-example-failover'));

  // Quarantine: the pod leaves its Services' selectors, and comes back.
  const pod = 'reviews-v2-5b667bcbf8-vn7r4';
  const podNow = () => api.objects('pods').find((p) => p.metadata.name === pod);
  await platform.quarantine('bookinfo', pod, true);
  assert.equal(podNow()!.metadata.labels.app, undefined);
  assert.equal(podNow()!.metadata.labels[QUARANTINED_LABEL], 'true');
  await platform.quarantine('bookinfo', pod, false);
  assert.equal(podNow()!.metadata.labels.app, 'reviews');
  assert.equal(podNow()!.metadata.labels[QUARANTINED_LABEL], undefined);

  // Scale: the Deployment's scale subresource; the pods that appear are what it started (the
  // test plays the ReplicaSet); removing them marks them to go first and scales back down.
  const ratingsPod = api.objects('pods').find((p) => p.metadata.labels?.app === 'ratings')!;
  const scaling = platform.scale('bookinfo', 'ratings-v1', 1);
  const deadline = Date.now() + 5000;
  while (!api.requests.some((q) => q.path.endsWith('/deployments/ratings-v1/scale'))) {
    assert.ok(Date.now() < deadline, 'the scale request arrives');
    await new Promise((r) => setTimeout(r, 20));
  }
  api.put('pods', { ...structuredClone(ratingsPod), metadata: { ...structuredClone(ratingsPod.metadata), name: 'ratings-v1-7dc98c7588-new01', uid: 'u-new01' } });
  const { started } = await scaling;
  assert.deepEqual(started, ['ratings-v1-7dc98c7588-new01']);
  const replicas = () => api.objects('deployments').find((d) => d.metadata.name === 'ratings-v1')!.spec.replicas;
  assert.equal(replicas(), 2);
  await platform.removeInstances('bookinfo', started);
  assert.equal(api.objects('pods').find((p) => p.metadata.name === 'ratings-v1-7dc98c7588-new01')!.metadata.annotations[DELETION_COST_ANNOTATION], '-1000');
  assert.equal(replicas(), 1);

  // Restart: the pod is deleted (its controller starts another); a Deployment gets a rollout restart.
  await platform.restart('bookinfo', pod);
  assert.equal(podNow(), undefined);
  await platform.send(rolloutRestartRequest(clusterView(state), 'bookinfo', 'details-v1'));
  const restartedAt = api.objects('deployments').find((d) => d.metadata.name === 'details-v1')!.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'];
  assert.match(restartedAt, /^\d{4}-\d\d-\d\dT/);
  // A pod that went away (restarted) has no quarantine left to lift.
  await platform.quarantine('bookinfo', pod, false);
});
