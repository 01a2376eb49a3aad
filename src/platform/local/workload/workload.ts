import { startControlServer } from './control-server.js';
import { WorkloadFaults } from './faults.js';
import { listenHttp, listenHttp2, listenTcp, type Listener } from './listeners.js';
import { Outbound } from './outbound.js';
import { seededRng } from './random.js';
import type { WorkloadSpec } from './spec.js';

// One synthetic application instance, in-process: its listeners (one per port) and its client
// to the sidecar. main.ts runs one per OS process; tests may start one directly.

export interface WorkloadOptions {
  /** The sidecar's outbound listener, `http://<instance address>:15001`. */
  outboundProxy: string;
}

export interface RunningWorkload {
  close(): Promise<void>;
}

export async function startWorkload(spec: WorkloadSpec, opts: WorkloadOptions): Promise<RunningWorkload> {
  const outbound = new Outbound(opts.outboundProxy);
  const faults = new WorkloadFaults(spec.seed);
  const ctx = { spec, rng: seededRng(spec.seed), outbound, padding: 'x'.repeat(spec.responseSize), faults };
  const listeners: Listener[] = [];
  const close = async () => {
    faults.close();
    await Promise.all(listeners.map((l) => l.close()));
    await outbound.close();
  };
  try {
    // The control channel first: the daemon may put faults in force as soon as the instance serves.
    if (spec.controlSocket) listeners.push(await startControlServer(spec.controlSocket, faults));
    for (const p of spec.ports) {
      const listen = p.protocol === 'tcp' ? listenTcp : p.protocol === 'http' ? listenHttp : listenHttp2;
      listeners.push(await listen(p.socketPath, ctx));
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { close };
}
