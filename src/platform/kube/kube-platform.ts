import type { KindId } from '../../api/kinds.js';
import type { ConfigChange } from '../../recovery/model.js';
import type { Platform } from '../../recovery/platform/platform.js';
import { collectionPath, discoverKinds, type ServedKind } from './discovery.js';
import { KubeError } from './errors.js';
import type { Json, KubeClient } from './kube-client.js';
import { ownerOf } from './pod-instances.js';
import { configRequests, DELETION_COST_ANNOTATION, quarantineRequest, restartRequest, revertRequests, scaleRequest, type ClusterView, type KubeRequest } from './recovery-requests.js';

// Recovery's Platform on Kubernetes, plus the config side of an action (server-side apply of
// Istio resources). Every operation reads the namespace's pods, Services and Deployments as
// they are now and sends the requests recovery-requests.ts builds, the same ones
// `recover --dry-run` prints.
//
// scale() resolves with the pods that appeared for the Deployment (bounded wait);
// removeInstances() undoes it exactly: those pods get the lowest pod-deletion-cost, then the
// Deployment is scaled down by their number, so its ReplicaSet removes exactly them.

export interface KubePlatformOptions {
  /** How long scale() waits for the new pods to appear (ms). */
  scaleWaitMs?: number;
  pollMs?: number;
  now?: () => number;
}

export class KubePlatform implements Platform {
  readonly name = 'kube';
  private served: Map<KindId, ServedKind> | undefined;
  /** Every request sent, in order (what the audit log records beside the action). */
  readonly sent: KubeRequest[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly opts: KubePlatformOptions = {},
  ) {}

  async quarantine(namespace: string, instance: string, on: boolean): Promise<void> {
    const view = await this.view(namespace);
    if (!on && !view.pods.some((p) => p.metadata.name === instance)) return; // gone (restarted): nothing to lift
    await this.send(quarantineRequest(view, namespace, instance, on));
  }

  async restart(namespace: string, instance: string): Promise<void> {
    await this.send(restartRequest(await this.view(namespace), namespace, instance));
  }

  async scale(namespace: string, workload: string, add: number): Promise<{ started: string[] }> {
    const view = await this.view(namespace);
    const before = new Set(view.pods.filter((p) => ownerOf(p).name === workload).map((p) => p.metadata.name));
    await this.send(scaleRequest(view, namespace, workload, add));
    const deadline = (this.opts.now ?? Date.now)() + (this.opts.scaleWaitMs ?? 60_000);
    for (;;) {
      const pods = await this.pods(namespace);
      const fresh = pods.filter((p) => ownerOf(p).name === workload && !before.has(p.metadata.name)).map((p) => p.metadata.name as string);
      if (fresh.length >= add || (this.opts.now ?? Date.now)() > deadline) return { started: fresh.sort() };
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 1000));
    }
  }

  async removeInstances(namespace: string, names: readonly string[]): Promise<void> {
    const view = await this.view(namespace);
    const pods = view.pods.filter((p) => names.includes(p.metadata.name));
    if (pods.length === 0) return;
    for (const p of pods) {
      await this.send({ method: 'PATCH', path: `${collectionPath(this.kind('Pod'), namespace)}/${encodeURIComponent(p.metadata.name)}`, contentType: 'application/merge-patch+json', body: { metadata: { annotations: { [DELETION_COST_ANNOTATION]: '-1000' } } }, summary: `mark pod ${namespace}/${p.metadata.name} to go first` });
    }
    await this.send(scaleRequest(view, namespace, ownerOf(pods[0]).name, -pods.length));
  }

  /** Server-side apply of an action's Istio resources (deletes for op: delete). */
  async applyConfig(changes: readonly ConfigChange[], actionId: string): Promise<void> {
    const view = await this.view();
    for (const r of configRequests(view, changes, actionId)) await this.send(r);
  }

  /** Puts back what applyConfig changed. */
  async revertConfig(changes: readonly ConfigChange[]): Promise<void> {
    const view = await this.view();
    for (const r of revertRequests(view, changes)) await this.send(r, { ignoreNotFound: true });
  }

  async send(r: KubeRequest, opts: { ignoreNotFound?: boolean } = {}): Promise<Json | undefined> {
    this.sent.push(r);
    try {
      if (r.method === 'DELETE') return await this.client.delete(r.path);
      return await this.client.request('PATCH', `${r.path}?fieldManager=meshmedic${r.contentType === 'application/apply-patch+yaml' ? '&force=true' : ''}`, JSON.stringify(r.body), r.contentType);
    } catch (e) {
      if (opts.ignoreNotFound && e instanceof KubeError && e.code === 'E_KUBE_NOT_FOUND') return undefined;
      throw e;
    }
  }

  private kind(id: KindId): ServedKind {
    const k = this.served?.get(id);
    if (!k) throw new KubeError('E_KUBE_NOT_FOUND', `the cluster does not serve ${id}`);
    return k;
  }

  private async pods(namespace: string): Promise<Json[]> {
    return (await this.client.list(collectionPath(this.kind('Pod'), namespace))).items;
  }

  /** The namespace's pods, Services and Deployments now (no namespace: only what config needs). */
  private async view(namespace?: string): Promise<ClusterView> {
    this.served ??= await discoverKinds(this.client);
    const served = this.served;
    const list = async (id: KindId) => (namespace ? (await this.client.list(collectionPath(this.kind(id), namespace))).items : []);
    const [pods, services, deployments] = await Promise.all([list('Pod'), list('Service'), list('Deployment')]);
    // List items of built-in kinds lack namespace only when cluster-scoped; these are namespaced.
    return { served, pods, services, deployments, now: this.opts.now ?? Date.now };
  }
}
