import { request } from 'node:http';
import { PROXY_ADMIN_PORT } from '../../../api/snapshot.js';
import { NETWORK_FAULTS_PATH, type NetworkFault } from '../../../proxy/chaos/network-faults.js';
import { controlSocketPath, type MeshProcesses } from '../mesh-processes.js';
import type { AppFault } from '../workload/faults.js';
import { hostNamesOf } from './targets.js';
import type { Injection } from './types.js';

// Faults that live inside processes (the application's added latency, errors and CPU burn; the
// sidecar's network delay) are declarative: from the injections in force the daemon computes
// what each application and each sidecar should have, and sends the whole set. Clearing an
// injection is sending the set without it; a process that restarts (and so forgot) gets the
// set again once it answers.

export const APP_FAULT_TYPES = new Set(['latency', 'error-rate', 'cpu-burn']);

/** The application fault an injection puts on each instance it covers. */
export function appFaultOf(inj: Injection): AppFault | undefined {
  const p = inj.params;
  if (inj.type === 'latency') return { latency: { ms: p.delayMs ?? 0, percent: p.percent ?? 100 } };
  if (inj.type === 'error-rate') return { error: { status: p.status ?? 500, percent: p.percent ?? 100 } };
  if (inj.type === 'cpu-burn') return { cpu: { percent: p.cpuPercent ?? 90 } };
  return undefined;
}

/** Node ids an injection acts on, from its revert steps (where they are kept). */
function instancesIn(inj: Injection, op: 'app-faults' | 'network-faults'): string[] {
  return inj.revert.flatMap((s) => (s.op === op ? s.instances : []));
}

export function desiredAppFaults(active: Iterable<Injection>, instanceId: string): Record<string, AppFault> {
  const out: Record<string, AppFault> = {};
  for (const inj of active) {
    const f = appFaultOf(inj);
    if (f && instancesIn(inj, 'app-faults').includes(instanceId)) out[inj.id] = f;
  }
  return out;
}

export function desiredNetworkFaults(active: Iterable<Injection>, instanceId: string, instanceNamespace: string): Record<string, NetworkFault> {
  const out: Record<string, NetworkFault> = {};
  for (const inj of active) {
    if (inj.type !== 'network-delay' || !instancesIn(inj, 'network-faults').includes(instanceId)) continue;
    const t = inj.target;
    const hosts = t.kind === 'edge' ? hostNamesOf(t.destination, instanceNamespace) : undefined;
    out[inj.id] = { delayMs: inj.params.delayMs ?? 0, percent: inj.params.percent ?? 100, ...(hosts && { hosts }) };
  }
  return out;
}

/** Sends an instance's application and sidecar fault sets (both, whatever changed: cheap, and it heals drift). */
export async function pushFaults(processes: MeshProcesses, stateRoot: string, active: Iterable<Injection>, instanceId: string, which: { app?: boolean; sidecar?: boolean } = { app: true, sidecar: true }): Promise<void> {
  const r = processes.get(instanceId);
  if (!r) return; // an extra instance that is gone: nothing to tell
  const list = [...active];
  if (which.app) {
    const socketPath = controlSocketPath(stateRoot, r.instance.namespace, r.instance.name);
    await put({ socketPath, path: '/faults' }, { faults: desiredAppFaults(list, instanceId) }, `application of ${instanceId}`);
  }
  if (which.sidecar) {
    await put({ host: r.instance.address, port: PROXY_ADMIN_PORT, path: NETWORK_FAULTS_PATH }, { faults: desiredNetworkFaults(list, instanceId, r.instance.namespace) }, `sidecar of ${instanceId}`);
  }
}

function put(target: { host?: string; port?: number; socketPath?: string; path: string }, body: unknown, what: string): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method: 'PUT', timeout: 3000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${what} refused the faults: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`))));
    });
    req.once('timeout', () => req.destroy(new Error(`${what} did not answer within 3 s`)));
    req.once('error', (e) => reject(new Error(`${what}: ${e.message}`)));
    req.end(text);
  });
}
