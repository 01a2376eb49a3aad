import { rmSync } from 'node:fs';
import { loadOrCreateApiToken } from '../../dashboard/access-token.js';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlaneClient } from './chaos/control-plane-client.js';
import { ChaosEngine } from './chaos/engine.js';
import { chaosRoutes } from './chaos/routes.js';
import { StandIns } from './chaos/stand-ins.js';
import { databasePath, InjectionStore } from './chaos/store.js';
import { DaemonApi, daemonSocketPath, processRoutes } from './daemon-api.js';
import { planLocalMesh } from './mesh-plan.js';
import { MeshProcesses } from './mesh-processes.js';
import type { StateDir } from './state-dir.js';
import { Supervisor } from './supervisor.js';
import type { Retention } from './controlplane-process.js';

// The process behind `meshmedic up`: it supervises the control plane process and, for every
// workload instance, a sidecar process and an application process. It holds no mesh state of
// its own; killing any one process (the control plane included) leaves the others running,
// and the supervisor restarts what died. Its control API (daemon-api.ts, a unix socket in the
// state directory) runs chaos and process operations.

const here = dirname(fileURLToPath(import.meta.url));
const CLI_MAIN = join(here, '..', '..', 'cli', 'main.js');

export interface MeshDaemonOptions {
  state: StateDir;
  topologies: string[];
  port: number; // control plane port, fixed for the daemon's life so restarts keep it
  log: (line: string) => void;
  /** OTLP/HTTP collector the control plane exports spans to (`up --otlp-endpoint`). */
  otlpEndpoint?: string;
  /** How long the control plane keeps metrics and traces (`up --metrics-retention/--trace-retention`). */
  retention?: Retention;
}

export async function startMeshDaemon(opts: MeshDaemonOptions): Promise<{ stop: () => Promise<void>; supervisor: Supervisor }> {
  const { state } = opts;
  const plan = planLocalMesh(state.root, opts.topologies);
  let chaos: ChaosEngine | undefined;
  const supervisor = new Supervisor({
    onExit: (name, code, signal, willRestart) => opts.log(`${name} exited (${signal ?? `code ${code}`})${willRestart ? ', restarting' : ''}`),
    onStart: (name) => chaos?.onProcessStart(name),
  });
  const url = `http://127.0.0.1:${opts.port}`;
  // Made here, before the control plane process starts (which reads the same file), so both agree.
  const token = loadOrCreateApiToken(state.root);
  supervisor.start({
    name: 'controlplane',
    command: process.execPath,
    args: [CLI_MAIN, 'controlplane', '--state-dir', state.root, '--port', String(opts.port), ...(opts.otlpEndpoint ? ['--otlp-endpoint', opts.otlpEndpoint] : []), ...retentionArgs(opts.retention), ...opts.topologies],
    env: {},
    logFile: join(state.logsDir, 'controlplane.log'),
  });
  const processes = new MeshProcesses(state, supervisor, url, plan);
  processes.startPlanned();
  opts.log(`supervising the control plane and ${plan.instances.length} instances (${plan.instances.length * 2} processes)`);
  const controlPlane = new ControlPlaneClient(url, token);
  const standIns = new StandIns(() => controlPlane, (name) => processes.allocateAddress(name));
  const store = new InjectionStore(databasePath(state.root));
  chaos = new ChaosEngine({ stateRoot: state.root, supervisor, processes, controlPlane: () => controlPlane, standIns, log: opts.log }, store);
  chaos.start();
  const api = new DaemonApi([...processRoutes(supervisor, processes), ...chaosRoutes(chaos, standIns)]);
  await api.listen(daemonSocketPath(state.root));
  return {
    supervisor,
    stop: async () => {
      // Chaos first: every fault still in force is reverted (and recorded so) while the mesh still runs.
      await chaos!.shutdown().catch((e: Error) => opts.log(`chaos: clearing at stop failed: ${e.message}`));
      await api.close();
      rmSync(daemonSocketPath(state.root), { force: true });
      await standIns.closeAll();
      store.close();
      // Applications first, then sidecars, the control plane last: nothing loses its config while it serves.
      const names = supervisor.list().map((p) => p.name);
      await Promise.all(names.filter((n) => n.startsWith('app/')).map((n) => supervisor.stop(n)));
      await Promise.all(names.filter((n) => n.startsWith('sidecar/')).map((n) => supervisor.stop(n)));
      await supervisor.stopAll();
    },
  };
}

function retentionArgs(r: Retention | undefined): string[] {
  return [...(r?.metricsMs ? ['--metrics-retention', String(r.metricsMs)] : []), ...(r?.tracesMs ? ['--trace-retention', String(r.tracesMs)] : [])];
}
