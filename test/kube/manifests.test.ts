import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { registerController } from '../../src/cli/controller.js';
import { addPlatformOptions } from '../../src/cli/platform-options.js';
import { KINDS } from '../../src/api/kinds.js';
import { clusterView, planContext } from '../../src/cli/recover-kube.js';
import type { RankedCause } from '../../src/diagnosis/model.js';
import { readCluster } from '../../src/platform/kube/cluster-state.js';
import { KubeClient } from '../../src/platform/kube/kube-client.js';
import { loadKubeConfig } from '../../src/platform/kube/kubeconfig.js';
import { actionRequests, rolloutRestartRequest } from '../../src/platform/kube/recovery-requests.js';
import { planRecovery } from '../../src/recovery/planner.js';
import { startRecordedApiServer, type RecordedApiServer } from './recorded-api-server.js';

// The manifests in deploy/kubernetes: kustomize resolves them, and their RBAC is least
// privilege and sufficient: the read role grants get/list/watch on exactly the kinds meshmedic
// reads (src/api/kinds.ts) and nothing more; the recover role grants exactly the verbs the
// requests recovery builds need (every action of both cause files, planned on the recorded
// cluster), and nothing more. The controller Deployment runs `meshmedic controller` with options
// the CLI takes: proposing in the base, with --auto-recover where recovery may write.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const deploy = join(root, 'deploy/kubernetes');
type Json = Record<string, any>;

/**
 * The objects a kustomization lists, read as kustomize gathers them: its resources, then its
 * components, whose resources join and whose JSON patches apply to everything gathered so far.
 */
function kustomize(dir: string, gathered: Json[] = []): Json[] {
  const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS() as Json;
  const out = gathered;
  for (const r of [...(k.resources ?? []), ...(k.components ?? [])] as string[]) {
    const p = join(dir, r);
    assert.ok(existsSync(p), `${dir}: ${r} exists`);
    if (existsSync(join(p, 'kustomization.yaml'))) kustomize(p, out);
    else out.push(...parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS() as Json));
  }
  for (const patch of (k.patches ?? []) as Json[]) {
    const targets = out.filter((o) => o.kind === patch.target.kind && o.metadata.name === patch.target.name);
    assert.equal(targets.length, 1, `${dir}: the patch's target ${patch.target.kind}/${patch.target.name} exists`);
    for (const op of parseAllDocuments(patch.patch)[0].toJS() as Json[]) {
      // JSON patch `add` (what the components use): `/-` appends to a list.
      assert.equal(op.op, 'add');
      const parts = (op.path as string).split('/').slice(1);
      const parent = parts.slice(0, -1).reduce((o: Json, key) => o[key], targets[0]);
      const last = parts[parts.length - 1];
      if (last === '-') parent.push(op.value);
      else parent[last] = op.value;
    }
  }
  return out;
}

/** The options `meshmedic controller` takes (its own and the platform options), as the CLI registers them. */
function controllerOptions(): Set<string> {
  const program = new Command();
  addPlatformOptions(program);
  registerController(program);
  const cmd = program.commands.find((c) => c.name() === 'controller')!;
  return new Set([...program.options, ...cmd.options].map((o) => o.long!));
}

function controllerArgs(objects: Json[]): string[] {
  const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'meshmedic-controller')!;
  assert.ok(d, 'the controller Deployment');
  const pod = d.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'meshmedic');
  assert.equal(d.spec.replicas, 1, 'one controller: two would act twice');
  assert.equal(d.spec.strategy.type, 'Recreate');
  const args = pod.containers[0].args as string[];
  const known = controllerOptions();
  for (const a of args) if (a.startsWith('--')) assert.ok(known.has(a), `meshmedic controller takes ${a}`);
  assert.deepEqual(args.slice(0, 2), ['--platform', 'kube']);
  assert.ok(args.includes('controller') && args[args.indexOf('--prometheus') + 1] === '$(PROMETHEUS_URL)');
  return args;
}

type Grant = Set<string>; // `group/resource verb`
function grants(role: Json): Grant {
  const g = new Set<string>();
  for (const rule of role.rules as Json[]) {
    for (const v of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) assert.notEqual(v, '*', `${role.metadata.name}: no wildcards`);
    for (const group of rule.apiGroups) for (const res of rule.resources) for (const verb of rule.verbs) g.add(`${group}/${res} ${verb}`);
  }
  return g;
}

const plural = (kind: string) => {
  const l = kind.toLowerCase();
  if (l.endsWith('ss')) return `${l}es`;
  if (l.endsWith('s')) return l; // endpoints
  return /[^aeiou]y$/.test(l) ? `${l.slice(0, -1)}ies` : `${l}s`;
};

let api: RecordedApiServer;
before(async () => {
  api = await startRecordedApiServer('127.10.40.4');
});
after(() => api?.close());

test('the read role: get, list, watch on exactly the kinds meshmedic reads', () => {
  const objects = kustomize(join(deploy, 'base'));
  const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshmedic-read')!;
  const want = new Set(KINDS.filter((k) => k.group !== 'meshmedic.internal').flatMap((k) => ['get', 'list', 'watch'].map((v) => `${k.group}/${plural(k.kind)} ${v}`)));
  assert.deepEqual([...grants(role)].sort(), [...want].sort());
  const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'meshmedic-read')!;
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'meshmedic', namespace: 'meshmedic' }]);
  const job = objects.find((o) => o.kind === 'CronJob')!;
  const pod = job.spec.jobTemplate.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'meshmedic');
  assert.deepEqual(pod.containers[0].args.slice(0, 2), ['--platform', 'kube']);
  assert.ok(!objects.some((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshmedic-recover'), 'the base cannot write');
  assert.ok(!controllerArgs(objects).includes('--auto-recover'), 'the base controller only proposes');
});

test('the recover role: exactly the verbs recovery\'s requests need', async () => {
  const objects = kustomize(join(deploy, 'overlays/recover'));
  const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshmedic-recover')!;
  assert.ok(controllerArgs(objects).includes('--auto-recover'), 'with write access, the controller carries plans out');
  const state = await readCluster(new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfig })));
  const needed = new Set<string>();
  for (const f of ['causes-config.json', 'causes-platform.json']) {
    const v = JSON.parse(readFileSync(join(root, 'test/kube/fixtures', f), 'utf8'));
    const causes = (Array.isArray(v) ? v : v.causes) as RankedCause[];
    const plan = planRecovery({ id: 'rbac', causes }, planContext(state, causes));
    for (const a of plan.actions) {
      for (const r of actionRequests(clusterView(state), a, 'x')) {
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)\/[^/]+(?:\/([^/]+))?$/.exec(r.path)!;
        const resource = `${m[1] ?? ''}/${m[2]}${m[3] ? `/${m[3]}` : ''}`;
        needed.add(`${resource} ${r.method === 'DELETE' ? 'delete' : 'patch'}`);
        // Server-side apply creates what does not exist yet; deleting that is its rollback.
        if (r.contentType === 'application/apply-patch+yaml') for (const v of ['create', 'delete']) needed.add(`${resource} ${v}`);
      }
    }
  }
  // A restart of an instance that names a Deployment is a rollout restart (a patch of it).
  if (rolloutRestartRequest(clusterView(state), 'bookinfo', 'details-v1').method === 'PATCH') needed.add('apps/deployments patch');
  assert.deepEqual([...grants(role)].sort(), [...needed].sort());
});

test('kubectl kustomize builds both (when kubectl is installed)', (t) => {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error) return t.diagnostic('kubectl not installed: the structural checks above still ran');
  for (const dir of ['base', 'overlays/recover']) {
    const r = spawnSync('kubectl', ['kustomize', join(deploy, dir)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Json).kind);
    assert.ok(kinds.includes('CronJob') && kinds.includes('ClusterRole') && kinds.includes('Deployment'));
    const d = parseAllDocuments(r.stdout).map((x) => x.toJS() as Json).find((o) => o.kind === 'Deployment')!;
    assert.equal(d.spec.template.spec.containers[0].args.includes('--auto-recover'), dir !== 'base');
    assert.equal(dirname(dir) === 'overlays', kinds.filter((k) => k === 'ClusterRole').length === 2);
  }
});
