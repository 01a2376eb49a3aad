import type { KindId } from '../../api/kinds.js';
import type { Resource } from '../../api/resource.js';
import type { ConfigStore } from '../../config/store.js';
import { systemClock, type Clock, type TimerHandle } from '../../proxy/clock.js';
import { loadObjects, normalizeItem } from './cluster-objects.js';
import { collectionPath, type ServedKind } from './discovery.js';
import type { ConfigHistory } from './config-history.js';
import type { Json, KubeClient, WatchEventType } from './kube-client.js';

// Keeps a ConfigStore equal to the cluster: list each kind, then watch it from the list's
// resourceVersion (as a client-go informer does). ADDED/MODIFIED put the object, DELETED removes
// it, BOOKMARK moves the resourceVersion on. When the server ends a watch (it does every few
// minutes) the watch resumes from the last resourceVersion; when that is too old (410 Gone) the
// kind is listed again and the store brought level with it, without touching objects that did
// not change. Every version of an Istio object seen is handed to the config history
// (config-history.ts: what diagnosis reads as config changes on a cluster, and revert-config puts
// back). Reconnects back off on the injected clock.

export interface WatcherOptions {
  clock?: Clock;
  /** First reconnect delay after a failed watch; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  log?: (line: string) => void;
  /** Where every version of an Istio object seen (list or event) is recorded (config-history.ts). */
  history?: Pick<ConfigHistory, 'listed' | 'event'>;
}

interface KindWatch {
  kind: ServedKind;
  resourceVersion?: string;
  stop?: () => void;
  timer?: TimerHandle;
  failures: number;
}

export class ClusterWatcher {
  private readonly watches = new Map<KindId, KindWatch>();
  private readonly clock: Clock;
  private running = false;
  /** Events applied, by type (for status and tests). */
  readonly counts: Record<string, number> = { ADDED: 0, MODIFIED: 0, DELETED: 0, BOOKMARK: 0, relists: 0, reconnects: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly store: ConfigStore,
    kinds: readonly ServedKind[],
    private readonly opts: WatcherOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    for (const k of kinds) this.watches.set(k.info.id, { kind: k, failures: 0 });
  }

  /** Lists every kind into the store (one version), then starts the watches. */
  async start(): Promise<void> {
    this.running = true;
    const listed: Resource[] = [];
    for (const w of this.watches.values()) listed.push(...(await this.list(w)));
    this.store.apply(listed);
    for (const w of this.watches.values()) await this.watch(w);
  }

  stop(): void {
    this.running = false;
    for (const w of this.watches.values()) {
      w.stop?.();
      if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    }
  }

  resourceVersion(kind: KindId): string | undefined {
    return this.watches.get(kind)?.resourceVersion;
  }

  private async list(w: KindWatch): Promise<Resource[]> {
    const list = await this.client.list(collectionPath(w.kind));
    w.resourceVersion = list.metadata.resourceVersion;
    this.record(() => this.opts.history?.listed(w.kind.info, list.items.map((i) => normalizeItem(i, w.kind.apiVersion, w.kind.info.kind))));
    return this.toResources(w, list.items);
  }

  private toResources(w: KindWatch, items: Json[]): Resource[] {
    return loadObjects(items.map((i) => normalizeItem(i, w.kind.apiVersion, w.kind.info.kind))).resources;
  }

  private async watch(w: KindWatch): Promise<void> {
    if (!this.running) return;
    try {
      w.stop = await this.client.watch(collectionPath(w.kind), w.resourceVersion, (type, obj) => this.onEvent(w, type, obj), (err) => this.onDone(w, err));
    } catch (e) {
      this.onDone(w, e);
    }
  }

  private onEvent(w: KindWatch, type: WatchEventType, obj: Json): void {
    if (type === 'ERROR') {
      // A Status: 410 Gone means our resourceVersion is too old to watch from; list again.
      if (obj?.code === 410) w.resourceVersion = undefined;
      this.opts.log?.(`watch ${w.kind.plural}: ${obj?.message ?? 'error event'}`);
      return;
    }
    w.failures = 0;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
    const rv = obj?.metadata?.resourceVersion;
    if (rv) w.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    this.record(() => this.opts.history?.event(w.kind.info, type, normalizeItem(obj, w.kind.apiVersion, w.kind.info.kind)));
    if (type === 'DELETED') {
      const ns = w.kind.info.clusterScoped ? '' : (obj.metadata?.namespace ?? '');
      this.store.delete(w.kind.info.id, ns, obj.metadata?.name);
    } else {
      const resources = this.toResources(w, [obj]);
      if (resources.length) this.store.apply(resources);
    }
  }

  /** The history is a record: failing to write it (disk full) is said, and the watch goes on. */
  private record(fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      this.opts.log?.(`config history: ${(e as Error).message}`);
    }
  }

  private onDone(w: KindWatch, err: unknown): void {
    w.stop = undefined;
    if (!this.running) return;
    if (err) w.failures++;
    const base = this.opts.backoffMs ?? 500;
    const delay = err ? Math.min(this.opts.maxBackoffMs ?? 30_000, base * 2 ** (w.failures - 1)) : 0;
    if (err) this.opts.log?.(`watch ${w.kind.plural} ended: ${(err as Error)?.message ?? err}; again in ${delay} ms`);
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      this.counts.reconnects++;
      void this.resume(w);
    }, delay);
  }

  /** Watch again from where we were, or list again when there is no usable resourceVersion. */
  private async resume(w: KindWatch): Promise<void> {
    if (!this.running) return;
    if (w.resourceVersion === undefined) {
      try {
        await this.relist(w);
      } catch (e) {
        return this.onDone(w, e);
      }
    }
    await this.watch(w);
  }

  private async relist(w: KindWatch): Promise<void> {
    this.counts.relists++;
    const fresh = await this.list(w);
    const now = new Map(this.store.list(w.kind.info.id).map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r]));
    const changed = fresh.filter((r) => now.get(`${r.metadata.namespace ?? ''}/${r.metadata.name}`)?.raw.metadata?.resourceVersion !== r.raw.metadata?.resourceVersion);
    if (changed.length) this.store.apply(changed);
    const keep = new Set(fresh.map((r) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`));
    for (const [key, r] of now) if (!keep.has(key)) this.store.delete(w.kind.info.id, r.metadata.namespace ?? '', r.metadata.name);
  }
}
