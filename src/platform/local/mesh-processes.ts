import { createHash } from 'node:crypto';
import { readApiToken } from '../../dashboard/access-token.js';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_ADMIN_PORT, type ProxyNode, type WorkloadInstance } from '../../api/snapshot.js';
import { nodeIdOf } from '../../controlplane/registry.js';
import { AddressAllocator, addressBase } from './addresses.js';
import type { LocalPlan, PlannedInstance } from './mesh-plan.js';
import type { StateDir } from './state-dir.js';
import type { Supervisor } from './supervisor.js';
import { socketPath } from './topology/plan.js';
import type { WorkloadSpec } from './workload/spec.js';
import { BootstrapSecret, writeCredentialFile } from '../../security/bootstrap-credential.js';

// The instances the mesh daemon runs, each a sidecar process and an application process: the
// topology's (planned), and extra ones started while the mesh runs (a new version for a bad
// rollout, later scale-out by recovery). Extra instances get addresses after the planned ones,
// are registered with the control plane through its API and registered again when the control
// plane restarts (it only knows the topology by itself).

const here = dirname(fileURLToPath(import.meta.url));
const PROXY_MAIN = join(here, '..', '..', 'proxy', 'main.js');
const WORKLOAD_MAIN = join(here, 'workload', 'main.js');

export interface RunningInstance extends PlannedInstance {
  extra: boolean;
}

export interface ExtraInstanceRequest {
  /** The instance whose service, ports and script the new one copies. */
  base: PlannedInstance;
  version: string;
  index: number;
  /** Overrides of the copied behaviour (a bad version answers errors). */
  errorRate?: number;
}

export const appProcess = (id: string) => `app/${id}`;
export const sidecarProcess = (id: string) => `sidecar/${id}`;

/** `<state>/sockets/<ns>.<instance>.control.sock`: the application's fault control channel (a hashed name when too long). */
export function controlSocketPath(stateRoot: string, namespace: string, instance: string): string {
  const plain = join(stateRoot, 'sockets', `${namespace}.${instance}.control.sock`);
  if (Buffer.byteLength(plain) <= 107) return plain;
  return join(stateRoot, 'sockets', `${createHash('sha256').update(`${namespace}.${instance}.control`).digest('hex').slice(0, 16)}.c.sock`);
}

export class MeshProcesses {
  private readonly byId = new Map<string, RunningInstance>();
  private readonly addresses = new AddressAllocator(addressBase());

  constructor(
    private readonly state: StateDir,
    private readonly supervisor: Supervisor,
    private readonly controlPlaneUrl: string,
    plan: LocalPlan,
  ) {
    // Same names in the same order as planLocalMesh: the same addresses, and the next free ones after.
    for (const p of plan.instances) {
      this.addresses.allocate(`${p.instance.namespace}/${p.instance.name}`);
      this.byId.set(p.id, { ...p, extra: false });
    }
  }

  startPlanned(): void {
    for (const p of this.byId.values()) this.launch(p);
  }

  list(): RunningInstance[] {
    return [...this.byId.values()];
  }

  get(id: string): RunningInstance | undefined {
    return this.byId.get(id);
  }

  /** A loopback address of the mesh's range for something else the daemon serves (an external stand-in). */
  allocateAddress(name: string): string {
    return this.addresses.allocate(name);
  }

  /** Starts an extra instance (sidecar and application); resolves once it is ready and registered. */
  async addInstance(req: ExtraInstanceRequest, timeoutMs = 20_000): Promise<RunningInstance> {
    const b = req.base;
    const service = b.spec.service;
    const workload = `${service}-${req.version}`;
    const name = `${workload}-${req.index}`;
    const ns = b.instance.namespace;
    const id = nodeIdOf({ name, namespace: ns });
    if (this.byId.has(id)) throw new Error(`instance ${id} already runs`);
    const address = this.addresses.allocate(`${ns}/${name}`);
    const labels = { ...b.instance.labels, app: service, version: req.version };
    const ports = b.spec.ports.map((p) => ({ ...p, socketPath: socketPath(this.state.root, ns, name, p.port) }));
    const spec: WorkloadSpec = {
      ...b.spec, version: req.version, workload, instance: name, ports,
      seed: createHash('sha256').update(`${ns}/${name}`).digest().readUInt32BE(0),
      ...(req.errorRate !== undefined && { errorRate: req.errorRate }),
    };
    const instance: WorkloadInstance = {
      ...b.instance, name, workload, labels, address, healthy: true, source: 'registered',
      ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: b.instance.ports.find((q) => q.port === p.port)!.protocol, app: { socketPath: p.socketPath } })),
    };
    const node: ProxyNode = { ...b.node, id, instance: name, workload, labels, address };
    const running: RunningInstance = { id, instance, spec, node, extra: true };
    this.byId.set(id, running);
    this.launch(running);
    try {
      // Known but not ready: its sidecar gets its config, no one sends it traffic yet.
      await this.register({ ...running, instance: { ...instance, healthy: false } });
      await waitUntil(timeoutMs, async () => spec.ports[0].protocol === 'tcp' || (await httpGet({ socketPath: spec.ports[0].socketPath, path: '/healthz' })) === 200, `application of ${id} ready`);
      await waitUntil(timeoutMs, async () => (await httpGet({ host: address, port: PROXY_ADMIN_PORT, path: '/ready' })) === 200, `sidecar of ${id} ready`);
      await this.register(running);
    } catch (e) {
      await this.removeInstance(id);
      throw e;
    }
    return running;
  }

  async removeInstance(id: string): Promise<void> {
    const r = this.byId.get(id);
    if (!r || !r.extra) return;
    this.byId.delete(id);
    await this.call('DELETE', `/api/v1/instances/${encodeURIComponent(r.instance.namespace)}/${encodeURIComponent(r.instance.name)}`).catch(() => undefined);
    await this.supervisor.stop(appProcess(id));
    await this.supervisor.stop(sidecarProcess(id));
  }

  /** The control plane (re)started: it knows the topology's instances, not the extra ones. */
  async registerExtras(): Promise<void> {
    for (const r of this.byId.values()) if (r.extra) await this.register(r);
  }

  private async register(r: RunningInstance): Promise<void> {
    await this.call('POST', '/api/v1/instances', r.instance);
  }

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const token = readApiToken(this.state.root);
    const res = await fetch(`${this.controlPlaneUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`control plane ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }

  /**
   * The sidecar's bootstrap credential for the mesh CA, in a 0600 file of the state directory
   * (never in the environment or a log): with it the sidecar gets its workload certificate and
   * speaks mutual TLS. MESHMEDIC_MTLS=off runs the mesh in plaintext.
   */
  private credentialEnv(id: string): Record<string, string> {
    if (process.env.MESHMEDIC_MTLS === 'off') return {};
    const secret = BootstrapSecret.open(this.state.root);
    return { MESH_CREDENTIAL_FILE: writeCredentialFile(this.state.root, id, secret.credentialFor(id)) };
  }

  private launch(p: RunningInstance): void {
    const logs = this.state.logsDir;
    this.supervisor.start({
      name: sidecarProcess(p.id), command: process.execPath, args: [PROXY_MAIN],
      env: { MESH_NODE: JSON.stringify(p.node), MESH_XDS: this.controlPlaneUrl, ...this.credentialEnv(p.id) }, logFile: join(logs, `${p.id}.sidecar.log`),
    });
    const spec: WorkloadSpec = { ...p.spec, controlSocket: controlSocketPath(this.state.root, p.instance.namespace, p.instance.name) };
    this.supervisor.start({
      name: appProcess(p.id), command: process.execPath, args: [WORKLOAD_MAIN],
      env: { MESH_WORKLOAD_SPEC: JSON.stringify(spec), MESH_OUTBOUND_PROXY: `http://${p.instance.address}:15001` },
      logFile: join(logs, `${p.id}.app.log`),
    });
  }
}

/** The status of a GET (0 when it did not answer), over TCP or a unix socket. */
export function httpGet(target: { host?: string; port?: number; socketPath?: string; path: string }, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ ...target, method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

export async function waitUntil(timeoutMs: number, check: () => Promise<boolean>, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
