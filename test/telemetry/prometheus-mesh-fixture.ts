import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { WorkloadInstance } from '../../src/api/snapshot.js';
import { isAlive, StateDir } from '../../src/platform/local/state-dir.js';
import { readApiToken } from '../../src/dashboard/access-token.js';
import { runCli } from '../cli/helpers.js';

// Bookinfo on the local mesh (real sidecars exporting Istio's metrics on :15090) under a paced
// load, for the Prometheus agreement test. Addresses in 127.15.0.0/16 (this helper's base); a
// fault injected on details (10% of calls abort with 503) puts errors in the metrics.

export interface BookinfoMesh {
  instances: WorkloadInstance[];
  controlPlaneUrl: string;
  /** The API token of the mesh's control plane (its API answers 401 without it). */
  controlPlaneToken: string | undefined;
  /** Requests sent by the load so far. */
  sent(): number;
  stop(): Promise<void>;
}

const DETAILS_FAULT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: bookinfo}
spec:
  hosts: [details]
  http:
  - fault:
      abort: {httpStatus: 503, percentage: {value: 10}}
    route:
    - destination: {host: details}
`;

export async function startBookinfo(): Promise<BookinfoMesh> {
  const home = mkdtempSync(join(tmpdir(), 'mm-prom-mesh-'));
  const env = { MESHMEDIC_HOME: home, MESHMEDIC_ADDRESS_BASE: '127.15' };
  const state = new StateDir(home);
  const cli = (args: string[]) => runCli(args, undefined, env);
  const down = () => {
    cli(['down']);
    for (const rec of [state.mesh(), state.controlPlane()]) if (rec && isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
  const up = cli(['up', '-f', 'examples/bookinfo', '--timeout', '60']);
  if (up.code !== 0) {
    down();
    throw new Error(`meshmedic up failed:\n${up.stdout}\n${up.stderr}`);
  }
  writeFileSync(join(home, 'details-fault.yaml'), DETAILS_FAULT);
  const applied = cli(['apply', '-f', join(home, 'details-fault.yaml')]);
  if (applied.code !== 0) {
    down();
    throw new Error(`apply failed: ${applied.stderr}`);
  }
  const status = JSON.parse(cli(['status', '-o', 'json']).stdout) as { controlPlane: { url: string }; instances: WorkloadInstance[] };
  const pp = status.instances.find((i) => i.name === 'productpage-v1-0')!;
  const pool = new Pool(`http://${pp.address}:9080`, { connections: 2 });
  let running = true;
  let sent = 0;
  // Two loops, each a request then a 20 ms pause: tens of requests a second, bursty as real traffic.
  const loop = async () => {
    while (running) {
      try {
        const res = await pool.request({ method: 'GET', path: '/productpage' });
        await res.body.dump();
      } catch {
        // counted by the metrics, not here
      }
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const loops = [loop(), loop()];
  return {
    instances: status.instances,
    controlPlaneUrl: status.controlPlane.url,
    controlPlaneToken: readApiToken(home),
    sent: () => sent,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await pool.close();
      down();
    },
  };
}
