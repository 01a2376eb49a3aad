import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopologyView } from '../diagnosis/ground-truth.js';
import type { Injection, InjectRequest } from '../platform/local/chaos/types.js';
import { callDaemon, DaemonCallError } from '../platform/local/daemon-client.js';
import { isAlive, StateDir, type ControlPlaneRecord } from '../platform/local/state-dir.js';
import { DemoError } from './errors.js';

// The demo's own Bookinfo: `meshmedic up -f examples/bookinfo [--auto-recover]` in a state
// directory of its own (a temp dir unless the user names one), and everything needed to drive
// and stop it: its control plane's API, its daemon (chaos), and `down` then a kill by PID of
// the two processes `up` leaves behind, so nothing outlives the demo.

const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const BOOKINFO_DIR = fileURLToPath(new URL('../../../examples/bookinfo', import.meta.url));

/**
 * The checks' settings for the demo's mesh: a 20 s baseline instead of 60 s, so detection is
 * armed 15 s after start (window + half a baseline), and incidents close 5 s after the checks
 * hold. Written only into a state directory that has no slo.yaml of its own.
 */
export const DEMO_SLO = 'baselineMs: 20000\ncloseAfterMs: 5000\n';

export interface DemoMeshOptions {
  /** A state directory to use; default: a temp dir, removed at the end. */
  home?: string;
  autoRecover: boolean;
  /** Extra environment (MESHMEDIC_ADDRESS_BASE). */
  env?: Record<string, string>;
  progress?: (line: string) => void;
}

interface Registered {
  name: string;
  namespace: string;
  workload: string;
  address: string;
  healthy: boolean;
  labels: Record<string, string>;
  ports: Array<{ port: number }>;
}

export class DemoMesh {
  readonly state: StateDir;
  private readonly ownsHome: boolean;
  private started = false;
  private pids: number[] = [];
  private keepHome = false;

  constructor(private readonly opts: DemoMeshOptions) {
    this.ownsHome = !opts.home;
    this.state = new StateDir(opts.home ?? mkdtempSync(join(tmpdir(), 'meshmedic-demo-')));
  }

  get home(): string {
    return this.state.root;
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.opts.env, MESHMEDIC_HOME: this.state.root };
  }

  private cli(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI_MAIN, ...args, '--state-dir', this.state.root], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => {
        stderr += c;
        for (const line of String(c).split('\n')) if (line.trim()) this.opts.progress?.(line.trim());
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  async up(): Promise<void> {
    const running = this.state.liveMesh();
    if (running) throw new DemoError('E_DEMO_MESH_RUNNING', `a mesh is already running in ${this.state.root} (pid ${running.pid}); stop it with: meshmedic down, or let the demo use a temp directory`);
    this.state.ensure();
    const slo = join(this.state.root, 'slo.yaml');
    if (!existsSync(slo)) writeFileSync(slo, DEMO_SLO);
    this.started = true;
    // Users reach productpage in plaintext, as through an ingress gateway: bookinfo's config makes
    // productpage alone PERMISSIVE under the namespace's STRICT mTLS (examples/bookinfo/istio).
    const r = await this.cli(['up', '-f', BOOKINFO_DIR, '--timeout', '90', ...(this.opts.autoRecover ? ['--auto-recover'] : [])], 120_000);
    for (const rec of [this.state.mesh(), this.state.controlPlane()]) if (rec) this.pids.push(rec.pid);
    if (r.code !== 0 && r.code !== null) this.keepHome = true; // its logs say why; the message points there (null: killed by a signal, Ctrl-C)
    if (r.code !== 0) throw new DemoError('E_DEMO_MESH', `meshmedic up failed (exit ${r.code}): ${firstError(r.stderr)} (logs: ${this.state.logsDir})`);
  }

  controlPlane(): ControlPlaneRecord {
    const cp = this.state.liveControlPlane();
    if (!cp) throw new DemoError('E_DEMO_MESH', `the demo's control plane is not running (logs: ${this.state.logsDir})`);
    return cp;
  }

  /** GET (or other) on the control plane's API; undefined on 404 (an endpoint not there yet). */
  async api<T>(path: string, method = 'GET', body?: unknown): Promise<T | undefined> {
    const cp = this.controlPlane();
    const res = await fetch(`${cp.url}${path}`, {
      method,
      headers: { ...(cp.token && { authorization: `Bearer ${cp.token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as T;
  }

  async instances(): Promise<Registered[]> {
    return (await this.api<{ instances: Registered[] }>('/api/v1/registry'))?.instances ?? [];
  }

  async topology(): Promise<TopologyView> {
    return { instances: (await this.instances()).map((i) => ({ namespace: i.namespace, name: i.name, workload: i.workload, service: i.labels.app ?? i.workload })) };
  }

  /** `http://<productpage address>:9080`. */
  async productpageOrigin(): Promise<string> {
    const pp = (await this.instances()).find((i) => i.labels.app === 'productpage');
    if (!pp) throw new DemoError('E_DEMO_MESH', 'productpage is not registered');
    return `http://${pp.address}:${pp.ports[0]?.port ?? 9080}`;
  }

  async inject(req: InjectRequest): Promise<Injection> {
    try {
      return (await callDaemon<{ injection: Injection }>(this.state.root, 'POST', '/v1/chaos/injections', req)).injection;
    } catch (e) {
      if (e instanceof DaemonCallError) throw new DemoError('E_DEMO_INJECT', `${req.type} on ${req.target}: ${e.message} [${e.code}]`);
      throw e;
    }
  }

  async clear(id: string): Promise<void> {
    await callDaemon(this.state.root, 'DELETE', `/v1/chaos/injections/${encodeURIComponent(id)}`).catch(() => undefined);
  }

  /** `down`, then SIGKILL by PID whatever is left of the processes `up` started; removes a temp home. */
  async down(): Promise<void> {
    if (!this.started) return this.removeHome();
    // A daemon `up` had just spawned when it was interrupted writes its record within moments.
    for (let i = 0; i < 30 && !this.state.mesh(); i++) await new Promise((r) => setTimeout(r, 100));
    for (const rec of [this.state.mesh(), this.state.controlPlane()]) if (rec && !this.pids.includes(rec.pid)) this.pids.push(rec.pid);
    // The daemon's children too: if it has to be killed (a `down` stuck on a stopped process),
    // its sidecars and applications would outlive it.
    if (this.state.liveMesh()) {
      const procs = await callDaemon<{ processes: Array<{ pid?: number }> }>(this.state.root, 'GET', '/v1/processes', undefined, 5000).catch(() => undefined);
      for (const p of procs?.processes ?? []) if (p.pid && !this.pids.includes(p.pid)) this.pids.push(p.pid);
      await this.cli(['down'], 30_000);
    }
    for (const pid of this.pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    this.pids = [];
    this.started = false;
    this.removeHome();
  }

  private removeHome(): void {
    if (this.ownsHome && !this.keepHome) rmSync(this.state.root, { recursive: true, force: true });
  }
}

/** The line that says what went wrong: the first `Error...` line, else the last line. */
function firstError(stderr: string): string {
  const lines = stderr.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(Error|\w*Error\b)/.test(l)) ?? lines.pop() ?? '';
}
