import type Database from 'better-sqlite3';
import type { KindInfo } from '../../api/kinds.js';
import type { Change } from '../../config/store.js';
import { openStateDatabase, type ComponentSchema } from '../../util/state-database.js';
import { loadObjects } from './cluster-objects.js';
import type { Json } from './kube-client.js';

// The change history of a cluster's Istio config. Kubernetes keeps no previous versions of an
// object, so what a change replaced is known only to whoever saw the object before: meshmedic
// records every version of an Istio (and Gateway API) object it sees, from a list or a watch
// event, in the state database (`<state>/meshmedic.db`, component `kube-history`). A later run
// (the controller after a restart, `recover --platform kube --dry-run`) reads it back as the
// config store's history: diagnosis's config-change signals, and the `previous` revert-config
// puts back.
//
// A version is recorded when the object's spec, labels or annotations differ from the last one
// recorded (a status write by istiod bumps resourceVersion but is no config change). The first
// list of a kind in a cluster is the baseline: those objects were there before meshmedic looked
// and are not "added" changes; every object that appears after it is (its revert is a delete).
// An object gone from a later list (deleted while nobody watched) is recorded deleted.

export const HISTORY_SCHEMA: ComponentSchema = {
  component: 'kube-history',
  version: 1,
  migrations: {
    1: `
      CREATE TABLE kube_config_versions (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster TEXT NOT NULL,
        kind TEXT NOT NULL, -- meshmedic's kind id (Gateway API's Gateway is KubernetesGateway)
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        resource_version TEXT,
        generation INTEGER,
        object TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        baseline INTEGER NOT NULL DEFAULT 0,
        seen_by TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX kube_config_versions_key ON kube_config_versions (cluster, kind, namespace, name, version);
      CREATE TABLE kube_history_synced (cluster TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (cluster, kind));
    `,
  },
};

/** Kinds whose history is kept: the config Istio and the Gateway API read. */
export function keepsHistory(info: KindInfo): boolean {
  return info.istio || info.group === 'gateway.networking.k8s.io';
}

export interface RecordedVersion {
  version: number;
  kind: string;
  namespace: string;
  name: string;
  resourceVersion?: string;
  generation?: number;
  object: Json;
  deleted: boolean;
  baseline: boolean;
  seenBy: 'list' | 'watch';
  at: number;
}

interface Row {
  version: number;
  kind: string;
  namespace: string;
  name: string;
  resource_version: string | null;
  generation: number | null;
  object: string;
  deleted: number;
  baseline: number;
  seen_by: 'list' | 'watch';
  at: number;
}

const fromRow = (r: Row): RecordedVersion => ({
  version: r.version, kind: r.kind, namespace: r.namespace, name: r.name,
  ...(r.resource_version !== null && { resourceVersion: r.resource_version }),
  ...(r.generation !== null && { generation: r.generation }),
  object: JSON.parse(r.object), deleted: r.deleted === 1, baseline: r.baseline === 1, seenBy: r.seen_by, at: r.at,
});

/** What makes a version: its spec, labels and annotations (not status, not bookkeeping). */
function content(o: Json): string {
  const { spec, metadata } = o;
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !['apiVersion', 'kind', 'metadata', 'status'].includes(k)));
  return JSON.stringify({ spec, labels: metadata?.labels ?? {}, annotations: metadata?.annotations ?? {}, ...rest });
}

export class ConfigHistory {
  private readonly db: Database.Database;

  constructor(
    file: string,
    /** Which cluster the rows are of (the API server's URL): one database may serve several kubeconfig contexts. */
    private readonly cluster: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openStateDatabase(file, HISTORY_SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** A list of one kind (all namespaces): new versions, objects that appeared, objects gone. */
  listed(info: KindInfo, objects: readonly Json[]): number {
    if (!keepsHistory(info)) return 0;
    return this.db.transaction(() => {
      const synced = this.db.prepare('SELECT 1 FROM kube_history_synced WHERE cluster = ? AND kind = ?').get(this.cluster, info.id) !== undefined;
      let n = 0;
      const seen = new Set<string>();
      for (const o of objects) {
        const ns = o.metadata?.namespace ?? '';
        seen.add(`${ns}/${o.metadata?.name}`);
        if (this.put(info.id, o, { deleted: false, baseline: !synced, seenBy: 'list' })) n++;
      }
      for (const last of this.latestOfKind(info.id)) {
        if (last.deleted || seen.has(`${last.namespace}/${last.name}`)) continue;
        this.insert(info.id, last.object, { deleted: true, baseline: false, seenBy: 'list' });
        n++;
      }
      if (!synced) this.db.prepare('INSERT INTO kube_history_synced (cluster, kind, at) VALUES (?, ?, ?)').run(this.cluster, info.id, this.now());
      return n;
    })();
  }

  /** A watch event (ADDED, MODIFIED, DELETED); true when it recorded a version. */
  event(info: KindInfo, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Json): boolean {
    if (!keepsHistory(info)) return false;
    return this.put(info.id, object, { deleted: type === 'DELETED', baseline: false, seenBy: 'watch' });
  }

  /** Every recorded version of one object, oldest first. */
  versionsOf(kind: string, namespace: string, name: string): RecordedVersion[] {
    return (this.db.prepare('SELECT * FROM kube_config_versions WHERE cluster = ? AND kind = ? AND namespace = ? AND name = ? ORDER BY version').all(this.cluster, kind, namespace, name) as Row[]).map(fromRow);
  }

  /**
   * The history as the config store's: one Change per recorded version that changed something
   * (baseline rows are where it starts), oldest first, with the version before it as `previous`.
   * `sinceMs`: only changes at or after that time (diagnosis reads a window).
   */
  changes(sinceMs = 0): Change[] {
    const rows = (this.db.prepare('SELECT * FROM kube_config_versions WHERE cluster = ? ORDER BY version').all(this.cluster) as Row[]).map(fromRow);
    const last = new Map<string, RecordedVersion>();
    const out: Change[] = [];
    for (const v of rows) {
      const key = `${v.kind}/${v.namespace}/${v.name}`;
      const before = last.get(key);
      last.set(key, v);
      if (v.baseline || v.at < sinceMs) continue;
      const prev = before && !before.deleted ? before : undefined;
      const type: Change['type'] = v.deleted ? 'deleted' : prev ? 'updated' : 'added';
      if (type === 'deleted' && !prev) continue; // gone before we knew it: nothing to put back
      const resource = resourceOf(type === 'deleted' ? prev!.object : v.object);
      if (!resource) continue;
      const previous = prev ? resourceOf(prev.object) : undefined;
      out.push({ version: v.version, type, key: `${resource.info.id}/${v.namespace}/${v.name}`, resource, ...(previous && { previous }), at: v.at });
    }
    return out;
  }

  /** Drops versions older than `ms` that are not an object's latest (the history stays bounded). */
  prune(olderThanMs: number): number {
    const cutoff = this.now() - olderThanMs;
    return this.db.prepare(`DELETE FROM kube_config_versions WHERE cluster = ? AND at < ? AND version NOT IN (
      SELECT MAX(version) FROM kube_config_versions WHERE cluster = ? GROUP BY kind, namespace, name)`).run(this.cluster, cutoff, this.cluster).changes;
  }

  private latestOfKind(kind: string): RecordedVersion[] {
    return (this.db.prepare(`SELECT v.* FROM kube_config_versions v JOIN (
      SELECT MAX(version) AS version FROM kube_config_versions WHERE cluster = ? AND kind = ? GROUP BY namespace, name) m ON v.version = m.version`).all(this.cluster, kind) as Row[]).map(fromRow);
  }

  private latest(kind: string, namespace: string, name: string): RecordedVersion | undefined {
    const r = this.db.prepare('SELECT * FROM kube_config_versions WHERE cluster = ? AND kind = ? AND namespace = ? AND name = ? ORDER BY version DESC LIMIT 1').get(this.cluster, kind, namespace, name) as Row | undefined;
    return r && fromRow(r);
  }

  /** Records the object unless the last version recorded is the same (same content, same deleted). */
  private put(kind: string, o: Json, how: { deleted: boolean; baseline: boolean; seenBy: 'list' | 'watch' }): boolean {
    const last = this.latest(kind, o.metadata?.namespace ?? '', o.metadata?.name);
    if (how.deleted && (!last || last.deleted)) return false;
    if (!how.deleted && last && !last.deleted && content(last.object) === content(o)) return false;
    this.insert(kind, o, { ...how, baseline: how.baseline && !last });
    return true;
  }

  private insert(kind: string, o: Json, how: { deleted: boolean; baseline: boolean; seenBy: 'list' | 'watch' }): void {
    const { managedFields: _m, ...metadata } = o.metadata ?? {};
    const object: Json = { ...o, metadata };
    delete object.status;
    this.db.prepare(`INSERT INTO kube_config_versions (cluster, kind, namespace, name, resource_version, generation, object, deleted, baseline, seen_by, at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      this.cluster, kind, metadata.namespace ?? '', metadata.name, metadata.resourceVersion ?? null, typeof metadata.generation === 'number' ? metadata.generation : null,
      JSON.stringify(object), how.deleted ? 1 : 0, how.baseline ? 1 : 0, how.seenBy, this.now(),
    );
  }
}

function resourceOf(o: Json): Change['resource'] | undefined {
  return loadObjects([o]).resources[0];
}

/** The state database's file in a state directory (shared with incidents, recovery, chaos). */
export const historyFile = (stateRoot: string) => `${stateRoot.replace(/\/$/, '')}/meshmedic.db`;

/**
 * Records one read of the cluster (every kind with a history) and returns the history, or a
 * note when the state database cannot be opened (a read-only directory): the command goes on
 * without a history, as before it.
 */
export function recordRead(stateRoot: string, cluster: string, served: Iterable<{ info: KindInfo }>, objects: ReadonlyMap<string, readonly Json[]>): { history?: ConfigHistory; note?: string } {
  let history: ConfigHistory;
  try {
    history = new ConfigHistory(historyFile(stateRoot), cluster);
  } catch (e) {
    return { note: `no config change history (state database ${historyFile(stateRoot)}: ${(e as Error).message})` };
  }
  for (const k of served) if (objects.has(k.info.id)) history.listed(k.info, objects.get(k.info.id)!);
  return { history };
}
