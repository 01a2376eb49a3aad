#!/usr/bin/env node
import type { ProxyNode } from '../api/snapshot.js';
import { PROXY_ADMIN_PORT, PROXY_STATS_PORT } from '../api/snapshot.js';
import { AdminServer } from './admin-server.js';
import { Sidecar } from './sidecar.js';
import { XdsClient } from './xds-client.js';
import { systemClock } from './clock.js';
import { SpanReporter } from '../telemetry/tracing/span-reporter.js';
import { StatsServer } from '../telemetry/sidecar/stats-server.js';
import { telemetryOf } from '../telemetry/sidecar/sidecar-telemetry.js';
import { readFileSync } from 'node:fs';
import { controlPlaneSigner, WorkloadCredentials } from './tls/workload-credentials.js';

// The sidecar process, one per workload instance. Environment:
//   MESH_NODE  the ProxyNode as JSON (id, namespace, labels, address, ...)
//   MESH_XDS   the control plane's base URL, e.g. http://127.0.0.1:15010
//   MESH_ADMIN_PORT  optional, default 15000 (on the node's address)
//   MESH_CREDENTIAL_FILE  optional: the node's bootstrap credential for the mesh CA (mutual TLS)
//   MESH_STATS_PORT  optional, default 15090: Prometheus metrics at /stats/prometheus (on the node's address)
// SIGTERM/SIGINT: stop taking connections, let requests in flight finish, exit 0.

function fail(message: string): never {
  process.stderr.write(`meshmedic-proxy: ${message}\n`);
  process.exit(2);
}

function readNode(): ProxyNode {
  const raw = process.env.MESH_NODE;
  if (!raw) fail('MESH_NODE is not set (the ProxyNode as JSON)');
  let node: ProxyNode;
  try {
    node = JSON.parse(raw) as ProxyNode;
  } catch (e) {
    fail(`MESH_NODE is not JSON: ${(e as Error).message}`);
  }
  if (typeof node?.id !== 'string' || typeof node.address !== 'string') fail('MESH_NODE needs at least id and address');
  return node;
}

async function main(): Promise<void> {
  const node = readNode();
  const xdsUrl = process.env.MESH_XDS ?? fail('MESH_XDS is not set (the control plane URL)');
  const adminPort = Number(process.env.MESH_ADMIN_PORT ?? PROXY_ADMIN_PORT);
  const log = (m: string) => process.stderr.write(`meshmedic-proxy ${node.id}: ${m}\n`);

  // Spans go to the control plane in batches, off the request path (tracing issue).
  const spans = new SpanReporter({ controlPlaneUrl: xdsUrl, clock: systemClock, log, stats: { inc: (name, by) => sidecar.stats.inc(name, by) } });
  // Mutual TLS: with a bootstrap credential (MESH_CREDENTIAL_FILE, 0600) the sidecar asks the
  // mesh CA for its workload certificate and renews it at half its lifetime (src/proxy/tls).
  const credentialFile = process.env.MESH_CREDENTIAL_FILE;
  let tls: WorkloadCredentials | undefined;
  if (credentialFile) {
    let credential: string;
    try {
      credential = readFileSync(credentialFile, 'utf8').trim();
    } catch (e) {
      fail(`MESH_CREDENTIAL_FILE: ${(e as Error).message}`);
    }
    tls = new WorkloadCredentials({ signer: controlPlaneSigner(xdsUrl, node.id, credential), clock: systemClock, log });
  }
  const sidecar = new Sidecar({ node, log, spanSink: spans, tls });
  spans.start();
  const xds = new XdsClient({ baseUrl: xdsUrl, nodeId: node.id, target: sidecar, log });
  const admin = new AdminServer(sidecar, () => xds.status());
  try {
    await admin.listen(node.address, adminPort);
  } catch (e) {
    fail(`admin server on ${node.address}:${adminPort}: ${(e as Error).message}`);
  }
  const statsPort = Number(process.env.MESH_STATS_PORT ?? PROXY_STATS_PORT);
  const stats = new StatsServer(sidecar);
  try {
    await stats.listen(node.address, statsPort);
  } catch (e) {
    fail(`stats server on ${node.address}:${statsPort}: ${(e as Error).message}`);
  }
  await tls?.start(); // one attempt before taking config; failures retry in the background
  xds.start();
  log(`admin on ${node.address}:${adminPort}, control plane ${xdsUrl}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining`);
    xds.stop();
    tls?.stop();
    await sidecar.stop(5_000);
    await spans.stop();
    await admin.close();
    await stats.close();
    telemetryOf(sidecar).accessLog.flush(); // lines of the last requests
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
