import type { Command } from 'commander';
import type { WorkloadInstance } from '../api/snapshot.js';
import { callApi, stateDirOption } from './mesh-client.js';
import { outputFormatOption, printStructured, printTable } from './output.js';

// `meshmedic status`: is a mesh running, where is its control plane, which instances run where.
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the running local mesh: control plane, instances, addresses and health')
    .option('-o, --output <format>', 'log, json or yaml', 'log')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      const format = outputFormatOption(opts.output);
      const state = stateDirOption(opts);
      const mesh = state.liveMesh();
      const cp = state.liveControlPlane();
      const install = state.install();
      if (!mesh && !cp) {
        if (format !== 'log') return printStructured({ running: false, stateDir: state.root }, format);
        process.stdout.write(`No mesh is running (state directory ${state.root}).\n`);
        process.exitCode = 3; // kubectl-like: a status query that finds nothing running
        return;
      }
      const status = cp ? await callApi<Record<string, unknown>>(cp, 'GET', '/api/v1/status') : undefined;
      const registry = cp ? await callApi<{ instances: WorkloadInstance[] }>(cp, 'GET', '/api/v1/registry') : { instances: [] };
      const { token: _token, ...cpShown } = cp ?? {}; // the API token stays out of printed output (`meshmedic dashboard` gives it)
      const out = { running: true, stateDir: state.root, profile: install?.profile ?? 'default', mesh, controlPlane: cp ? { ...cpShown, ...status } : 'not running (restarting?)', instances: registry.instances };
      if (format !== 'log') return printStructured(out, format);
      process.stdout.write(`Mesh: running (pid ${mesh?.pid ?? '?'}), profile ${out.profile}, state ${state.root}\n`);
      process.stdout.write(`Control plane: ${cp ? `${cp.url} (pid ${cp.pid}), config version ${String(status?.configVersion)}` : 'not running'}\n\n`);
      printTable(
        ['NAMESPACE', 'INSTANCE', 'ADDRESS', 'PORTS', 'HEALTH'],
        registry.instances.map((i) => [i.namespace, i.name, i.address, i.ports.map((p) => `${p.port}/${p.protocol}`).join(','), i.healthy ? 'ready' : 'not ready']),
      );
      // Invariant: a field the mesh does not implement is reported, never silently ignored.
      const notes = (status?.notes as string[] | undefined) ?? [];
      if (notes.length) {
        process.stdout.write(`\nConfiguration the local mesh does not act on (yet), or conflicts it settled:\n`);
        for (const n of notes) process.stdout.write(`  - ${n}\n`);
      }
    });
}
