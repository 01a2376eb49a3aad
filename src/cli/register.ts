import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import type { PortProtocol, ProxyNode, WorkloadInstance } from '../api/snapshot.js';
import { PROXY_ADMIN_PORT, OUTBOUND_HTTP_PORT } from '../api/snapshot.js';
import { AdminServer } from '../proxy/admin-server.js';
import { Sidecar } from '../proxy/sidecar.js';
import { XdsClient } from '../proxy/xds-client.js';
import { systemClock } from '../proxy/clock.js';
import { controlPlaneSigner, WorkloadCredentials } from '../proxy/tls/workload-credentials.js';
import { BootstrapSecret } from '../security/bootstrap-credential.js';
import { callApi, requireControlPlane, stateDirOption } from './mesh-client.js';
import { usageError } from './exit-codes.js';

// `meshmedic register`: a process you started yourself (on this machine, outside any
// topology) joins the mesh, as a VM joins Istio with a WorkloadEntry and istio-agent. This
// command registers the instance with the control plane and runs its sidecar in the
// foreground until Ctrl-C, when it deregisters. Other services reach the process through the
// sidecar's inbound ports; the process reaches them by setting HTTP_PROXY to the sidecar.

const PROTOCOLS: readonly PortProtocol[] = ['http', 'http2', 'grpc', 'tcp'];

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--labels "${s}": want key=value[,key=value]`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `PORT[/PROTOCOL]=HOST:APPPORT`: the mesh dials PORT on the sidecar, which forwards to the app. */
function parsePort(s: string): WorkloadInstance['ports'][number] {
  const m = /^(\d+)(?:\/(\w+))?=([^:]+):(\d+)$/.exec(s);
  if (!m) throw usageError(`--port "${s}": want PORT[/PROTOCOL]=HOST:APPPORT, e.g. 8080/http=127.0.0.1:3000`);
  const protocol = (m[2] ?? 'http') as PortProtocol;
  if (!PROTOCOLS.includes(protocol)) throw usageError(`--port "${s}": protocol must be one of ${PROTOCOLS.join(', ')}`);
  return { name: `${protocol}-${m[1]}`, port: Number(m[1]), protocol, app: { host: m[3], port: Number(m[4]) } };
}

/** A stable address for a name in 127.10.240.0/20, away from the ones topologies get. */
function addressFor(namespace: string, name: string): string {
  const h = createHash('sha256').update(`${namespace}/${name}`).digest();
  return `127.10.${240 + (h[0] % 16)}.${(h[1] % 253) + 1}`;
}

export function registerRegister(program: Command): void {
  program
    .command('register')
    .description('Join a process you started to the running mesh, with its own sidecar (runs until Ctrl-C)')
    .requiredOption('--name <name>', 'instance name, e.g. legacy-billing-0')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--labels <k=v,...>', 'labels; Services select the instance by them (app=..., version=...)', '')
    .option('--port <spec>', 'PORT[/PROTOCOL]=HOST:APPPORT (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--service-account <sa>', 'service account (identity)', 'default')
    .option('--address <ip>', 'the sidecar\'s loopback address (default: derived from the name)')
    .option('--state-dir <dir>', 'state directory')
    .action(async (opts) => {
      const state = stateDirOption(opts);
      const cp = requireControlPlane(state);
      const labels = parseLabels(opts.labels);
      const ports = (opts.port as string[]).map(parsePort);
      const address: string = opts.address ?? addressFor(opts.namespace, opts.name);
      const instance: WorkloadInstance = {
        name: opts.name, workload: labels.app ?? opts.name, namespace: opts.namespace, serviceAccount: opts.serviceAccount,
        labels, address, ports, healthy: true, source: 'registered',
      };
      const node: ProxyNode = { id: `${opts.name}.${opts.namespace}`, instance: opts.name, workload: instance.workload, namespace: opts.namespace, serviceAccount: opts.serviceAccount, labels, address };
      const log = (m: string) => process.stderr.write(`${m}\n`);
      // Its workload certificate comes from the mesh CA with the node's bootstrap credential,
      // derived from the state directory's secret as the mesh daemon does for its sidecars.
      const tls = process.env.MESHMEDIC_MTLS === 'off' ? undefined : new WorkloadCredentials({ signer: controlPlaneSigner(cp.url, node.id, BootstrapSecret.open(state.root).credentialFor(node.id)), clock: systemClock, log });
      const sidecar = new Sidecar({ node, log, tls });
      const xds = new XdsClient({ baseUrl: cp.url, nodeId: node.id, target: sidecar, log });
      const admin = new AdminServer(sidecar, () => xds.status());
      await admin.listen(address, PROXY_ADMIN_PORT);
      await callApi(cp, 'POST', '/api/v1/instances', instance);
      await tls?.start(); // registered first: the CA names the node from the registry
      xds.start();
      process.stdout.write(`\u2714 ${node.id} joined the mesh; its sidecar is on ${address}\n`);
      for (const p of ports) process.stdout.write(`  inbound  ${address}:${p.port} -> ${'host' in p.app ? `${p.app.host}:${p.app.port}` : ''} (${p.protocol})\n`);
      process.stdout.write(`  outbound: run your process with HTTP_PROXY=http://${address}:${OUTBOUND_HTTP_PORT} to call mesh services by name\n`);
      process.stdout.write('Press Ctrl-C to leave the mesh.\n');
      await new Promise<void>((res) => {
        process.once('SIGINT', () => res());
        process.once('SIGTERM', () => res());
      });
      xds.stop();
      tls?.stop();
      await callApi(cp, 'DELETE', `/api/v1/instances/${encodeURIComponent(opts.namespace)}/${encodeURIComponent(opts.name)}`).catch(() => undefined);
      await sidecar.stop(5_000);
      await admin.close();
      process.stdout.write(`${node.id} left the mesh\n`);
    });
}
