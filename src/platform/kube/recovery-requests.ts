import { lookupKind, type KindId, type KindInfo } from '../../api/kinds.js';
import { kindByName } from '../../controlplane/kind-names.js';
import type { ConfigChange, PlannedAction, PlatformOperation } from '../../recovery/model.js';
import { objectPath, type ServedKind } from './discovery.js';
import { KubeError } from './errors.js';
import type { Json } from './kube-client.js';
import { ownerOf } from './pod-instances.js';

// What a recovery action is, as requests to the Kubernetes API. `recover --dry-run` prints
// these; the kube platform sends them. One place decides both, so what is shown is what runs.
//
// - Istio config: server-side apply (field manager `meshmedic`, conflicts forced: recovery takes
//   the fields it sets), each object labelled `meshmedic.io/action-id: <id>` so what recovery
//   applied can be listed (`kubectl get vs,dr -A -l meshmedic.io/action-id`) and reverted; a
//   delete is a DELETE. Rollback applies the `previous` object the same way (or deletes what
//   the action created).
// - restart an instance: delete its pod (its controller starts a new one); a Deployment named
//   as the instance gets a rollout restart instead (the pod template annotation
//   kubectl.kubernetes.io/restartedAt, as `kubectl rollout restart` writes it).
// - scale: the Deployment's scale subresource, replicas + n.
// - quarantine an instance: the pod loses the labels its Services select (kept in an
//   annotation to put back), so it leaves their endpoints and every Envoy's load-balancing set;
//   it keeps running to be looked at. Its ReplicaSet no longer owns it and starts a replacement,
//   so the service keeps its capacity.

export const ACTION_LABEL = 'meshmedic.io/action-id';
export const QUARANTINED_LABEL = 'meshmedic.io/quarantined';
export const QUARANTINED_LABELS_ANNOTATION = 'meshmedic.io/quarantined-labels';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** Pods with the lowest deletion cost go first when a ReplicaSet scales down (Kubernetes >= 1.22). */
export const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export interface KubeRequest {
  method: 'PATCH' | 'DELETE';
  path: string;
  /** application/apply-patch+yaml (server-side apply) or application/merge-patch+json. */
  contentType?: string;
  body?: Json;
  /** One line for people: what the request does. */
  summary: string;
}

/** What the requests are built from: the kinds the cluster serves and its pods, Services and Deployments now. */
export interface ClusterView {
  served: ReadonlyMap<KindId, ServedKind>;
  pods: readonly Json[];
  services: readonly Json[];
  deployments: readonly Json[];
  now: () => number;
}

const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';

export function servedKind(view: Pick<ClusterView, 'served'>, info: KindInfo | undefined, name: string): ServedKind {
  const k = info && view.served.get(info.id);
  if (!k) throw new KubeError('E_KUBE_NOT_FOUND', `the cluster does not serve ${name} (is its CRD installed?)`);
  return k;
}

function kindOf(view: ClusterView, c: ConfigChange): ServedKind {
  const raw = (c.raw ?? c.previous) as Json | null;
  const info = (raw && typeof raw.apiVersion === 'string' && lookupKind(raw.apiVersion, raw.kind)) || kindByName(c.kind);
  return servedKind(view, info, c.kind);
}

/** The object as it is applied: the served apiVersion, no server bookkeeping, the action's label. */
export function appliedObject(k: ServedKind, raw: Json, actionId: string | undefined): Json {
  const { uid: _u, resourceVersion: _rv, generation: _g, creationTimestamp: _c, managedFields: _m, selfLink: _s, ...metadata } = raw.metadata ?? {};
  const annotations = { ...(metadata.annotations ?? {}) };
  // kubectl's client-side bookkeeping is not ours to own.
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  const labels = { ...(metadata.labels ?? {}) };
  if (actionId) labels[ACTION_LABEL] = actionId;
  else delete labels[ACTION_LABEL];
  const out: Json = { apiVersion: k.apiVersion, kind: k.info.kind, metadata: { ...metadata, ...(Object.keys(labels).length && { labels }), ...(Object.keys(annotations).length ? { annotations } : {}) } };
  if (!Object.keys(annotations).length) delete out.metadata.annotations;
  for (const [key, v] of Object.entries(raw)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) out[key] = v;
  return out;
}

export function configRequests(view: ClusterView, changes: readonly ConfigChange[], actionId: string): KubeRequest[] {
  return changes.map((c) => {
    const k = kindOf(view, c);
    const path = objectPath(k, c.namespace, c.name);
    if (c.op === 'delete') return { method: 'DELETE', path, summary: `delete ${k.info.kind} ${c.namespace}/${c.name}` };
    return { method: 'PATCH', path, contentType: APPLY, body: appliedObject(k, c.raw as Json, actionId), summary: `server-side apply ${k.info.kind} ${c.namespace}/${c.name} (field manager meshmedic)` };
  });
}

/** The requests that undo config changes: each `previous` applied back, what was new deleted; newest first. */
export function revertRequests(view: ClusterView, changes: readonly ConfigChange[]): KubeRequest[] {
  return [...changes].reverse().map((c) => {
    const k = kindOf(view, c);
    const path = objectPath(k, c.namespace, c.name);
    if (!c.previous) return { method: 'DELETE', path, summary: `delete ${k.info.kind} ${c.namespace}/${c.name} (recovery created it)` };
    return { method: 'PATCH', path, contentType: APPLY, body: appliedObject(k, c.previous as Json, undefined), summary: `server-side apply ${k.info.kind} ${c.namespace}/${c.name} as it was before` };
  });
}

const podOf = (view: ClusterView, ns: string, name: string) => view.pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
const deploymentOf = (view: ClusterView, ns: string, name: string) => view.deployments.find((d) => d.metadata?.namespace === ns && d.metadata?.name === name);

function podPath(view: ClusterView, ns: string, name: string): string {
  return objectPath(servedKind(view, { id: 'Pod' } as KindInfo, 'Pod'), ns, name);
}

function deploymentPath(view: ClusterView, ns: string, name: string): string {
  return objectPath(servedKind(view, { id: 'Deployment' } as KindInfo, 'Deployment'), ns, name);
}

/** Labels of the pod that the selectors of its namespace's Services use. */
function selectedLabels(view: ClusterView, pod: Json): Record<string, string> {
  const labels: Record<string, string> = pod.metadata?.labels ?? {};
  const out: Record<string, string> = {};
  for (const s of view.services) {
    if (s.metadata?.namespace !== pod.metadata?.namespace) continue;
    const sel: Record<string, string> = s.spec?.selector ?? {};
    const keys = Object.keys(sel);
    if (keys.length && keys.every((k) => labels[k] === sel[k])) for (const k of keys) out[k] = labels[k];
  }
  return out;
}

export function quarantineRequest(view: ClusterView, ns: string, instance: string, on: boolean, actionId?: string): KubeRequest {
  const pod = podOf(view, ns, instance);
  if (!pod) throw new KubeError('E_KUBE_NOT_FOUND', `pod ${ns}/${instance} not found`);
  const path = podPath(view, ns, instance);
  if (on) {
    const selected = selectedLabels(view, pod);
    const labels: Record<string, string | null> = Object.fromEntries(Object.keys(selected).map((k) => [k, null]));
    labels[QUARANTINED_LABEL] = 'true';
    const annotations: Record<string, string> = { [QUARANTINED_LABELS_ANNOTATION]: JSON.stringify(selected) };
    if (actionId) annotations[ACTION_LABEL] = actionId;
    return { method: 'PATCH', path, contentType: MERGE, body: { metadata: { labels, annotations } }, summary: `quarantine pod ${ns}/${instance}: remove the labels its Services select (${Object.keys(selected).join(', ') || 'none'})` };
  }
  let kept: Record<string, string> = {};
  try {
    kept = JSON.parse(pod.metadata?.annotations?.[QUARANTINED_LABELS_ANNOTATION] ?? '{}');
  } catch {
    kept = {};
  }
  return {
    method: 'PATCH', path, contentType: MERGE,
    body: { metadata: { labels: { ...kept, [QUARANTINED_LABEL]: null }, annotations: { [QUARANTINED_LABELS_ANNOTATION]: null, [ACTION_LABEL]: null } } },
    summary: `lift the quarantine of pod ${ns}/${instance}: put back ${Object.keys(kept).join(', ') || 'no labels'}`,
  };
}

export function restartRequest(view: ClusterView, ns: string, instance: string): KubeRequest {
  if (podOf(view, ns, instance)) return { method: 'DELETE', path: podPath(view, ns, instance), summary: `delete pod ${ns}/${instance} (its controller starts a new one)` };
  if (deploymentOf(view, ns, instance)) return rolloutRestartRequest(view, ns, instance);
  throw new KubeError('E_KUBE_NOT_FOUND', `no pod or Deployment ${ns}/${instance} to restart`);
}

export function rolloutRestartRequest(view: ClusterView, ns: string, deployment: string): KubeRequest {
  return {
    method: 'PATCH', path: deploymentPath(view, ns, deployment), contentType: MERGE,
    body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date(view.now()).toISOString() } } } } },
    summary: `rollout restart Deployment ${ns}/${deployment}`,
  };
}

/** The Deployment behind a workload name (a Deployment of that name, or the owner of its pods). */
export function deploymentOfWorkload(view: ClusterView, ns: string, workload: string): Json {
  const d = deploymentOf(view, ns, workload) ?? view.pods.filter((p) => p.metadata?.namespace === ns && ownerOf(p).name === workload).map((p) => deploymentOf(view, ns, ownerOf(p).name)).find(Boolean);
  if (!d) throw new KubeError('E_KUBE_NOT_FOUND', `no Deployment ${ns}/${workload} to scale`);
  return d;
}

export function scaleRequest(view: ClusterView, ns: string, workload: string, add: number): KubeRequest {
  const d = deploymentOfWorkload(view, ns, workload);
  const now = Number(d.spec?.replicas ?? 1);
  return {
    method: 'PATCH', path: `${deploymentPath(view, ns, d.metadata.name)}/scale`, contentType: MERGE,
    body: { spec: { replicas: Math.max(0, now + add) } },
    summary: `scale Deployment ${ns}/${d.metadata.name} from ${now} to ${Math.max(0, now + add)} replicas`,
  };
}

export function platformRequests(view: ClusterView, op: PlatformOperation, actionId: string): KubeRequest[] {
  if (op.op === 'quarantine') return [quarantineRequest(view, op.namespace, op.instance, true, actionId)];
  if (op.op === 'restart') return [restartRequest(view, op.namespace, op.instance)];
  return [scaleRequest(view, op.namespace, op.workload, op.add)];
}

/** Every request an action makes, in order: its config, then its platform operations. */
export function actionRequests(view: ClusterView, a: PlannedAction, actionId: string): KubeRequest[] {
  return [...configRequests(view, a.config, actionId), ...a.platform.flatMap((op) => platformRequests(view, op, actionId))];
}
