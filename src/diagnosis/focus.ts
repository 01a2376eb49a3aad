import { CLUSTER_SUFFIX, anyHostMatches } from './signals/hosts.js';
import type { SignalSnapshot } from './signals/snapshot.js';
import type { RankedCause } from './model.js';

// `analyze -r SERVICE`: the causes that can explain what a service suffers, i.e. those on the
// service itself or on anything it depends on (its callees, transitively, and the edges and
// config between them). Asking about the front door must still name the broken back end.

export function reachableHosts(s: SignalSnapshot, host: string): Set<string> {
  const out = new Set([host]);
  const serves = new Map<string, string>();
  for (const e of s.entities) if (e.kind === 'workload' && e.workload) serves.set(`${e.namespace}/${e.workload}`, e.host);
  const queue = [host];
  while (queue.length) {
    const h = queue.shift()!;
    for (const e of s.edges) {
      const from = serves.get(`${e.sourceNamespace}/${e.sourceWorkload}`) ?? e.sourceService;
      if (from !== h || out.has(e.host)) continue;
      out.add(e.host);
      queue.push(e.host);
    }
  }
  return out;
}

export function focusCauses(causes: readonly RankedCause[], s: SignalSnapshot, service: string, namespace: string): RankedCause[] {
  const hosts = reachableHosts(s, `${service}.${namespace}.${CLUSTER_SUFFIX}`);
  const changes = new Map(s.configChanges.map((c) => [`${c.resource.kind}/${c.resource.namespace}/${c.resource.name}@${c.version}`, c]));
  return causes.filter((c) => {
    const t = c.target;
    if (t.kind === 'external') return !!t.host && hosts.has(t.host);
    if (t.kind === 'config-change' || (t.kind === 'security-policy' && !t.service)) {
      const r = t.resource;
      const change = r && changes.get(`${r.kind}/${r.namespace}/${r.name}@${r.configVersion}`);
      return !!change && [...hosts].some((h) => anyHostMatches(change.hosts, h));
    }
    const onPath = !!t.service && hosts.has(`${t.service}.${t.namespace}.${CLUSTER_SUFFIX}`);
    const fromPath = t.kind === 'edge' && !!t.sourceService && hosts.has(`${t.sourceService}.${t.namespace}.${CLUSTER_SUFFIX}`);
    return onPath || fromPath;
  });
}
