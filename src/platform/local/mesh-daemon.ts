import { join } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planLocalMesh } from './mesh-plan.js';
import type { StateDir } from './state-dir.js';
import { Supervisor } from './supervisor.js';

// The process behind `meshmedic up`: it supervises the control plane process and, for every
// workload instance, a sidecar process and an application process. It holds no mesh state of
// its own; killing any one process (the control plane included) leaves the others running,
// and the supervisor restarts what died.

const here = dirname(fileURLToPath(import.meta.url));
const CLI_MAIN = join(here, '..', '..', 'cli', 'main.js');
const PROXY_MAIN = join(here, '..', '..', 'proxy', 'main.js');
const WORKLOAD_MAIN = join(here, 'workload', 'main.js');

export interface MeshDaemonOptions {
  state: StateDir;
  topologies: string[];
  port: number; // control plane port, fixed for the daemon's life so restarts keep it
  log: (line: string) => void;
  /** OTLP/HTTP collector the control plane exports spans to (`up --otlp-endpoint`). */
  otlpEndpoint?: string;
}

export function startMeshDaemon(opts: MeshDaemonOptions): { stop: () => Promise<void>; supervisor: Supervisor } {
  const { state } = opts;
  const plan = planLocalMesh(state.root, opts.topologies);
  const supervisor = new Supervisor({
    onExit: (name, code, signal, willRestart) => opts.log(`${name} exited (${signal ?? `code ${code}`})${willRestart ? ', restarting' : ''}`),
  });
  const url = `http://127.0.0.1:${opts.port}`;
  supervisor.start({
    name: 'controlplane',
    command: process.execPath,
    args: [CLI_MAIN, 'controlplane', '--state-dir', state.root, '--port', String(opts.port), ...(opts.otlpEndpoint ? ['--otlp-endpoint', opts.otlpEndpoint] : []), ...opts.topologies],
    env: {},
    logFile: join(state.logsDir, 'controlplane.log'),
  });
  for (const p of plan.instances) {
    supervisor.start({
      name: `sidecar/${p.id}`, command: process.execPath, args: [PROXY_MAIN],
      env: { MESH_NODE: JSON.stringify(p.node), MESH_XDS: url }, logFile: join(state.logsDir, `${p.id}.sidecar.log`),
    });
    supervisor.start({
      name: `app/${p.id}`, command: process.execPath, args: [WORKLOAD_MAIN],
      env: { MESH_WORKLOAD_SPEC: JSON.stringify(p.spec), MESH_OUTBOUND_PROXY: `http://${p.instance.address}:15001` },
      logFile: join(state.logsDir, `${p.id}.app.log`),
    });
  }
  opts.log(`supervising the control plane and ${plan.instances.length} instances (${plan.instances.length * 2} processes)`);
  return {
    supervisor,
    stop: async () => {
      // Applications first, then sidecars, the control plane last: nothing loses its config while it serves.
      const names = supervisor.list().map((p) => p.name);
      await Promise.all(names.filter((n) => n.startsWith('app/')).map((n) => supervisor.stop(n)));
      await Promise.all(names.filter((n) => n.startsWith('sidecar/')).map((n) => supervisor.stop(n)));
      await supervisor.stopAll();
    },
  };
}
