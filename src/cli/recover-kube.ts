import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Resource } from '../api/resource.js';
import { loadStructuralSchemas, validateStructure } from '../config/schema.js';
import { kindByName } from '../controlplane/kind-names.js';
import type { RankedCause } from '../diagnosis/model.js';
import type { Change } from '../config/store.js';
import { loadObjects } from '../platform/kube/cluster-objects.js';
import { readCluster, type ClusterState } from '../platform/kube/cluster-state.js';
import { recordRead } from '../platform/kube/config-history.js';
import { StateDir } from '../platform/local/state-dir.js';
import { podInstances } from '../platform/kube/pod-instances.js';
import { actionRequests, QUARANTINED_LABEL, type ClusterView, type KubeRequest } from '../platform/kube/recovery-requests.js';
import type { PlanContext } from '../recovery/actions/action.js';
import { writePlan } from '../recovery/format.js';
import type { PlannedAction } from '../recovery/model.js';
import { planRecovery } from '../recovery/planner.js';
import { DEFAULT_SETTINGS, loadSettingsFile } from '../recovery/settings.js';
import { diagnoseFromPrometheus } from './analyze-kube.js';
import { EXIT_DATA_ERROR, ExitError, usageError } from './exit-codes.js';
import { printStructured, type OutputFormat } from './output.js';
import { kubeClient, platformOptions, withKubeErrors } from './platform-options.js';

// `meshmedic recover --platform kube --dry-run`: the recovery plan for a cluster, as the
// Kubernetes requests it would send, changing nothing. The causes come from diagnosis over
// Prometheus (--prometheus: the top causes now) or from a file (--causes: `analyze -o json`
// output, an incident from `incidents show -o json`, or a list of ranked causes). The planner
// and its safety limits are recovery's own, reading the cluster's config and pods. Every object
// it would apply is checked by analyze's schema validation first; one that fails stops the
// command (exit 65). Applying on a cluster is the in-cluster controller's job (docs/kubernetes.md).

export interface KubePlannedAction extends PlannedAction {
  /** The requests, in order: server-side applies of Istio resources, pod and Deployment patches, deletes. */
  requests: KubeRequest[];
}

export async function recoverKube(opts: { dryRun?: boolean; causes?: string; namespace?: string; service?: string; settings?: string; output: string; stateDir?: string }, cmd: Command, format: OutputFormat): Promise<void> {
  const p = platformOptions(cmd);
  if (!opts.dryRun) throw usageError('--platform kube: only --dry-run from the command line; recovery on a cluster is run by meshmedic in the cluster (docs/kubernetes.md)');
  if (!opts.causes && !p.prometheus) throw usageError('--platform kube --dry-run needs causes: --prometheus URL (diagnose now) or --causes FILE');
  await withKubeErrors(async () => {
    const client = kubeClient(p);
    const state = await readCluster(client, { istioNamespace: p.istioNamespace });
    // The change history this read adds to (config-history.ts): what revert-config puts back.
    const { history, note } = recordRead(new StateDir(opts.stateDir).root, client.serverUrl, state.served.values(), state.objects);
    try {
      const changes = history?.changes() ?? [];
      const causes = opts.causes ? readCauses(opts.causes) : (await diagnoseFromPrometheus(p, state, state.loaded.resources, opts.namespace ?? null, opts.service, undefined, () => changes)).causes;
      const plan = planRecovery({ id: 'dry-run', causes }, planContext(state, causes, opts.settings, changes));
      if (note) plan.notes.push(note);
      for (const u of state.unreadable) plan.notes.push(`${u.kind} not read (RBAC): the plan does not see it`);
      await printPlan(client.serverUrl, state, causes, plan, format);
    } finally {
      history?.close();
    }
  });
}

async function printPlan(cluster: string, state: ClusterState, causes: readonly RankedCause[], plan: ReturnType<typeof planRecovery>, format: OutputFormat): Promise<void> {
  const view = clusterView(state);
  const actions: KubePlannedAction[] = plan.actions.map((a, i) => ({ ...a, requests: actionRequests(view, a, `dry-run-${i + 1}`) }));
  await validateApplies(actions);
  if (format !== 'log') return printStructured({ cluster, actions, notes: plan.notes }, format);
  process.stdout.write(`Plan for ${causes.length} cause(s) on ${cluster} (dry run: nothing applied):\n`);
  writePlan(actions, process.stdout);
  for (const a of actions) {
    process.stdout.write(`\n# ${a.kind}: ${a.summary}\n`);
    for (const r of a.requests) {
      process.stdout.write(`# ${r.method} ${r.path}${r.contentType ? ` (${r.contentType})` : ''}: ${r.summary}\n`);
      if (r.body) process.stdout.write(`---\n${stringify(r.body)}`);
    }
  }
  if (plan.notes.length) process.stdout.write(`\nNotes:\n${plan.notes.map((n) => `  - ${n}\n`).join('')}`);
}

/** Ranked causes from a file: `analyze -o json` (runtime.causes), an incident, or a list. */
export function readCauses(file: string): RankedCause[] {
  let v: any;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ExitError(EXIT_DATA_ERROR, [`Error: --causes ${file}: ${(e as Error).message} [E_USAGE]`]);
  }
  const causes = Array.isArray(v) ? v : (v?.runtime?.causes ?? v?.causes);
  if (!Array.isArray(causes) || causes.some((c) => typeof c?.target?.kind !== 'string' || typeof c?.target?.namespace !== 'string')) {
    throw new ExitError(EXIT_DATA_ERROR, [`Error: --causes ${file}: want ranked causes (a list, {causes: [...]}, or analyze -o json output), each with target.kind and target.namespace [E_USAGE]`]);
  }
  return causes as RankedCause[];
}

export function clusterView(state: ClusterState): ClusterView {
  return { served: state.served, pods: state.objects.get('Pod') ?? [], services: state.objects.get('Service') ?? [], deployments: state.objects.get('Deployment') ?? [], now: Date.now };
}

/** What the planner reads, from the cluster: its config, its pods, and the change history meshmedic recorded (config-history.ts). */
export function planContext(state: ClusterState, causes: readonly RankedCause[], settingsFile?: string, changes: readonly Change[] = []): PlanContext {
  const byKind = new Map<string, Resource[]>();
  for (const r of state.loaded.resources) byKind.set(r.info.id, [...(byKind.get(r.info.id) ?? []), r]);
  const pods = state.objects.get('Pod') ?? [];
  const instances = podInstances(pods);
  const quarantined = new Set(pods.filter((p) => p.metadata?.labels?.[QUARANTINED_LABEL] === 'true').map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  return {
    resources: (kind, namespace) => {
      const info = kindByName(kind);
      return (info ? (byKind.get(info.id) ?? []) : []).filter((r) => namespace === undefined || (r.metadata.namespace ?? '') === namespace);
    },
    changes: () => changes,
    instances: () => instances,
    quarantined: (ns, name) => quarantined.has(`${ns}/${name}`),
    detections: [],
    causes,
    settings: settingsFile ? loadSettingsFile(settingsFile) : DEFAULT_SETTINGS,
  };
}

/** analyze's schema validation over every object an action would apply. */
export async function validateApplies(actions: readonly KubePlannedAction[]): Promise<void> {
  const bodies = actions.flatMap((a) => a.requests.filter((r) => r.contentType === 'application/apply-patch+yaml' && r.body).map((r) => r.body!));
  const loaded = loadObjects(bodies);
  await loadStructuralSchemas(loaded.resources);
  const errors = [...loaded.errors, ...loaded.resources.flatMap((r) => validateStructure(r))];
  if (errors.length) throw new ExitError(EXIT_DATA_ERROR, errors.map((e) => `Error: a planned object is not valid Istio config: ${e.format()}`));
}
