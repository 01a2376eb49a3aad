import type { Command } from 'commander';
import type { ProxySnapshot, WorkloadInstance } from '../api/snapshot.js';
import type { ClusterStatus } from '../proxy/upstream/outlier-status.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { EXIT_UNKNOWN_ERROR, ExitError, usageError } from './exit-codes.js';
import { outputFormatOption, printStructured, printTable } from './output.js';

// `status`, `proxy-status` and `proxy-config`, in istioctl's shape. proxy-config asks the
// sidecar itself (its admin port) what it runs, not the control plane what it sent.

interface ProxyState {
  node: string;
  status: string;
  connected: boolean;
  sent?: { version: string; at: number };
  acked?: { version: string; at: number };
  lastNack?: { version: string; error: string };
  error?: string;
  instance?: string;
  namespace?: string;
  address?: string;
}

/** `name.namespace` (istioctl's form) or `name` with -n. */
function findInstance(instances: WorkloadInstance[], ref: string, namespace: string): WorkloadInstance {
  const [name, ns] = ref.includes('.') ? [ref.slice(0, ref.indexOf('.')), ref.slice(ref.indexOf('.') + 1)] : [ref, namespace];
  const exact = instances.find((i) => i.name === name && i.namespace === ns);
  const byPrefix = instances.filter((i) => i.namespace === ns && (i.name.startsWith(`${name}-`) || i.workload === name));
  const found = exact ?? (byPrefix.length === 1 ? byPrefix[0] : undefined);
  if (!found) throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: no workload instance "${name}" in namespace ${ns}${byPrefix.length > 1 ? ` (several match: ${byPrefix.map((i) => i.name).join(', ')})` : ''}`]);
  return found;
}

export function registerProxyCommands(program: Command): void {
  program
    .command('proxy-status')
    .description('Per sidecar: the config version sent and acknowledged: SYNCED, STALE, NACKED or DISCONNECTED')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      const format = outputFormatOption(opts.output);
      const { proxies } = await callApi<{ proxies: ProxyState[] }>(requireControlPlane(stateDirOption(opts)), 'GET', '/api/v1/proxy-status');
      if (format !== 'log') return printStructured(proxies, format);
      printTable(
        ['NAME', 'ADDRESS', 'STATUS', 'SENT', 'ACKED', 'ERROR'],
        proxies.map((p) => [p.node, p.address ?? '', p.status, p.sent?.version ?? '', p.acked?.version ?? '', p.lastNack?.error ?? p.error ?? '']),
      );
    });

  program
    .command('proxy-config')
    .description("What one sidecar runs: listeners, routes, clusters or endpoints (asked of the sidecar itself)")
    .argument('<section>', 'listeners | routes | clusters | endpoints | all')
    .argument('<workload>', 'instance name (reviews-v1-0), name.namespace, or a workload with one instance')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (section: string, ref: string, opts) => {
      const format = outputFormatOption(opts.output);
      const sections = ['listeners', 'routes', 'clusters', 'endpoints', 'all'];
      if (!sections.includes(section)) throw usageError(`unknown section "${section}" (want ${sections.join(', ')})`);
      const cp = requireControlPlane(stateDirOption(opts));
      const { instances } = await callApi<{ instances: WorkloadInstance[] }>(cp, 'GET', '/api/v1/registry');
      const inst = findInstance(instances, ref, opts.namespace);
      let snap: ProxySnapshot;
      try {
        const res = await fetch(`http://${inst.address}:15000/config_dump`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        snap = (await res.json()) as ProxySnapshot;
      } catch (e) {
        throw new ExitError(EXIT_UNKNOWN_ERROR, [`Error: sidecar of ${inst.name}.${inst.namespace} at ${inst.address}:15000 did not answer: ${(e as Error).message}`]);
      }
      // Endpoint state (outlier ejections) is the sidecar's own: its /clusters; an older sidecar without it gets the snapshot's view.
      const live = section === 'endpoints' || section === 'all' ? await fetchClusterStatus(inst.address) : null;
      const data = section === 'endpoints' ? endpointViews(snap, live) : section === 'all' ? snap : (snap as unknown as Record<string, unknown>)[section];
      if (format !== 'log') return printStructured(data, format);
      printSection(section, snap, live);
    });
}

/** One endpoint as `proxy-config endpoints` shows it (istioctl's columns, plus what outlier detection did). */
export interface EndpointView {
  endpoint: string;
  /** HEALTHY, UNHEALTHY (down in the registry) or EJECTED (by outlier detection). */
  status: string;
  /** istioctl's OUTLIER CHECK: OK, FAILED (ejected), or absent when the cluster has no outlier detection. */
  outlierCheck?: 'OK' | 'FAILED';
  ejections: number;
  ejectedForMs: number;
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  ejectionReason?: string;
  instance: string;
  cluster: string;
}

async function fetchClusterStatus(address: string): Promise<ClusterStatus[] | null> {
  try {
    const res = await fetch(`http://${address}:15000/clusters?format=json`);
    return res.ok ? ((await res.json()) as { clusters: ClusterStatus[] }).clusters : null;
  } catch {
    return null;
  }
}

/** The endpoints of the snapshot, with the sidecar's live state when it has one (`live` null: snapshot only). */
export function endpointViews(s: ProxySnapshot, live: ClusterStatus[] | null): EndpointView[] {
  const byCluster = new Map((live ?? []).map((c) => [c.name, c]));
  const out: EndpointView[] = [];
  for (const cla of s.endpoints) {
    const c = byCluster.get(cla.clusterName);
    for (const e of cla.endpoints) {
      const key = e.socketPath ? `unix:${e.socketPath}` : `${e.address}:${e.port}`;
      const st = c?.endpoints.find((x) => x.endpoint === key);
      out.push({
        endpoint: key,
        status: st?.status ?? (e.healthy ? 'HEALTHY' : 'UNHEALTHY'),
        ...(c?.outlierDetection && { outlierCheck: st?.status === 'EJECTED' ? 'FAILED' : 'OK' }),
        ejections: st?.ejections ?? 0,
        ejectedForMs: st?.ejectedForMs ?? 0,
        consecutive5xx: st?.consecutive5xx ?? 0,
        consecutiveGatewayErrors: st?.consecutiveGatewayErrors ?? 0,
        ...(st?.ejectionReason !== undefined && { ejectionReason: st.ejectionReason }),
        instance: e.instance,
        cluster: cla.clusterName,
      });
    }
  }
  return out;
}

/** `1m30s`, `12s`, `0.5s`: the time left of an ejection, for people. */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${ms / 1000}s`;
  const total = Math.ceil(ms / 1000);
  const m = Math.floor(total / 60);
  const sec = total % 60;
  return m === 0 ? `${sec}s` : sec === 0 ? `${m}m` : `${m}m${sec}s`;
}

function printSection(section: string, s: ProxySnapshot, live: ClusterStatus[] | null = null): void {
  if (section === 'listeners' || section === 'all') {
    printTable(['ADDRESS', 'PORT', 'DIRECTION', 'PROTOCOL', 'DESTINATION'], s.listeners.map((l) => [l.address, String(l.port), l.direction, l.protocol, l.routeConfigName ? `Route: ${l.routeConfigName}` : `Cluster: ${l.tcpCluster ?? ''}`]));
  }
  if (section === 'routes' || section === 'all') {
    const rows: string[][] = [];
    for (const rc of s.routes) for (const vh of rc.virtualHosts) for (const r of vh.routes) {
      const action = r.action.kind === 'route' ? r.action.destinations.map((d) => `${d.cluster}${r.action.kind === 'route' && r.action.destinations.length > 1 ? ` ${d.weight}%` : ''}`).join(', ') : r.action.kind;
      rows.push([rc.name, vh.name, r.match.length ? `${r.match.length} match(es)` : '/*', action, r.origin ?? '']);
    }
    printTable(['NAME', 'VIRTUAL HOST', 'MATCH', 'DESTINATION', 'ORIGIN'], rows);
  }
  if (section === 'clusters' || section === 'all') {
    printTable(['NAME', 'DIRECTION', 'LB', 'ORIGIN'], s.clusters.map((c) => [c.name, c.direction, c.lbPolicy, c.origin ?? '']));
  }
  if (section === 'endpoints' || section === 'all') {
    const rows = endpointViews(s, live).map((v) => [
      v.endpoint,
      v.status,
      v.outlierCheck ?? '-',
      String(v.ejections),
      v.status === 'EJECTED' ? humanMs(v.ejectedForMs) : '',
      v.instance,
      v.cluster,
    ]);
    printTable(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'EJECTIONS', 'EJECTED FOR', 'INSTANCE', 'CLUSTER'], rows);
  }
}
