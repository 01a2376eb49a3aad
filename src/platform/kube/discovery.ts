import { KINDS, type KindId, type KindInfo } from '../../api/kinds.js';
import { KubeError } from './errors.js';
import type { KubeClient } from './kube-client.js';

// Which of the kinds meshmedic knows the cluster serves, at which version and under which
// resource name, from the API server's discovery documents (/api/v1, /apis, /apis/<g>/<v>), as
// kubectl finds them. A group the cluster does not serve (Gateway API CRDs not installed, say)
// is simply absent: its kinds are not read.

export interface ServedKind {
  info: KindInfo;
  /** The version we read and write: the group's preferred one when meshmedic knows it. */
  apiVersion: string;
  /** The resource name in paths (`virtualservices`). */
  plural: string;
  namespaced: boolean;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

interface ApiGroup {
  name: string;
  versions: Array<{ groupVersion: string; version: string }>;
  preferredVersion?: { groupVersion: string; version: string };
}

export async function discoverKinds(client: KubeClient): Promise<Map<KindId, ServedKind>> {
  const wanted = KINDS.filter((k) => k.group !== 'meshmedic.internal');
  const groups = (await client.get<{ groups: ApiGroup[] }>('/apis')).groups ?? [];
  const plan = new Map<string, KindInfo[]>(); // groupVersion -> kinds read at it
  for (const info of wanted) {
    let gv: string | undefined;
    if (info.group === '') gv = 'v1';
    else {
      const g = groups.find((x) => x.name === info.group);
      if (!g) continue;
      const served = new Set(g.versions.map((v) => v.version));
      const preferred = g.preferredVersion?.version;
      const version = preferred && info.versions.includes(preferred) ? preferred : info.versions.find((v) => served.has(v));
      if (!version) continue;
      gv = `${info.group}/${version}`;
    }
    plan.set(gv, [...(plan.get(gv) ?? []), info]);
  }
  const out = new Map<KindId, ServedKind>();
  await Promise.all(
    [...plan].map(async ([gv, infos]) => {
      let resources: ApiResource[];
      try {
        resources = (await client.get<{ resources: ApiResource[] }>(gv === 'v1' ? '/api/v1' : `/apis/${gv}`)).resources ?? [];
      } catch (e) {
        // A group listed in /apis whose version went away meanwhile (a CRD being removed).
        if (e instanceof KubeError && e.code === 'E_KUBE_NOT_FOUND') return;
        throw e;
      }
      for (const info of infos) {
        const r = resources.find((x) => x.kind === info.kind && !x.name.includes('/'));
        if (r) out.set(info.id, { info, apiVersion: gv, plural: r.name, namespaced: r.namespaced });
      }
    }),
  );
  return out;
}

/** The path of a kind's collection, cluster-wide or in one namespace. */
export function collectionPath(k: ServedKind, namespace?: string): string {
  const base = k.apiVersion === 'v1' ? '/api/v1' : `/apis/${k.apiVersion}`;
  return k.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${base}/${k.plural}`;
}

/** The path of one object. */
export function objectPath(k: ServedKind, namespace: string, name: string): string {
  return `${collectionPath(k, namespace)}/${encodeURIComponent(name)}`;
}
