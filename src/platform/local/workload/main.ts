#!/usr/bin/env node
import { OUTBOUND_PROXY_ENV, WORKLOAD_SPEC_ENV, type WorkloadSpec } from './spec.js';
import { startWorkload } from './workload.js';

// Process entry of one synthetic application instance. The supervisor starts it with its
// spec (MESH_WORKLOAD_SPEC, JSON) and its sidecar's outbound listener (MESH_OUTBOUND_PROXY).
// Prints one JSON line when every port listens; exits 0 on SIGTERM/SIGINT.

async function main(): Promise<void> {
  const raw = process.env[WORKLOAD_SPEC_ENV];
  const proxy = process.env[OUTBOUND_PROXY_ENV];
  if (!raw || !proxy) {
    process.stderr.write(`workload: ${WORKLOAD_SPEC_ENV} and ${OUTBOUND_PROXY_ENV} must be set\n`);
    process.exit(2);
  }
  let spec: WorkloadSpec;
  try {
    spec = JSON.parse(raw) as WorkloadSpec;
  } catch (e) {
    process.stderr.write(`workload: ${WORKLOAD_SPEC_ENV} is not JSON: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const running = await startWorkload(spec, { outboundProxy: proxy });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ event: 'listening', instance: spec.instance, namespace: spec.namespace, sockets: spec.ports.map((p) => p.socketPath) })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`workload: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
