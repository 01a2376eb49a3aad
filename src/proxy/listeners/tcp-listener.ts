import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Listener } from '../../api/snapshot.js';
import type { ProxyContext } from '../proxy-context.js';
import type { ActiveListener } from './active-listener.js';
import { closeServer, listen } from './server-lifecycle.js';
import { tcpMetricsOf } from '../../telemetry/sidecar/tcp-metrics.js';

// A TCP listener (Istio's tcp route with one destination): each connection is piped, bytes
// both ways, to one host of `tcpCluster` chosen by the cluster's balancer. No cluster or no
// healthy host (NC/UH) or a failed connect (UF) closes the client connection, and so does the
// cluster's tcp.maxConnections when reached (UO, Envoy's upstream_cx_overflow). A connection
// idle for tcp.idleTimeout (Istio: 1 h) or not connected within tcp.connectTimeout is closed.

export class TcpListener implements ActiveListener {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    public def: Listener,
    private readonly ctx: ProxyContext,
  ) {
    this.server = createServer({ noDelay: true }, (client) => this.onConnection(client));
  }

  listen(): Promise<void> {
    return listen(this.server, this.def.address, this.def.port);
  }

  close(graceMs: number): Promise<void> {
    return closeServer(this.server, graceMs, this.sockets);
  }

  private onConnection(client: Socket): void {
    const stats = this.ctx.stats;
    stats.inc('tcp.downstream_cx_total');
    const cluster = this.ctx.current?.clusters.get(this.def.tcpCluster ?? '');
    const host = cluster?.chooseForConnection(client.remoteAddress ?? '');
    const metrics = tcpMetricsOf(this.ctx, this.def); // Istio's TCP metrics (null: disabled)
    if (!host) {
      stats.inc(cluster ? 'tcp.response_flags.UH' : 'tcp.response_flags.NC');
      metrics?.refused(cluster ?? null, client, cluster ? 'UH' : 'NC');
      client.destroy();
      return;
    }
    const breakers = cluster!.breakers;
    if (!breakers.canOpenConnection()) {
      breakers.overflow('upstream_cx_overflow');
      stats.inc('tcp.response_flags.UO');
      metrics?.refused(cluster!, client, 'UO');
      client.destroy();
      return;
    }
    const meter = metrics?.connection(cluster!, host, client);
    this.sockets.add(client);
    host.active++;
    breakers.connections++;
    const e = host.endpoint;
    const upstream = e.socketPath ? connect({ path: e.socketPath }) : connect({ host: e.address, port: e.port, noDelay: true });
    let connected = false;
    const { connectTimeoutMs, tcpIdleTimeoutMs } = breakers.settings;
    upstream.setTimeout(connectTimeoutMs);
    upstream.once('connect', () => {
      connected = true;
      meter?.connected();
      cluster!.outlier?.record(host, 200); // Envoy's TCP proxy: a connect success resets the host's count
      upstream.setTimeout(tcpIdleTimeoutMs);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const cleanup = () => {
      if (!this.sockets.delete(client)) return;
      host.active--;
      breakers.connections--;
      upstream.destroy();
      client.destroy();
      meter?.closed();
    };
    upstream.on('error', () => {
      stats.inc(connected ? 'tcp.response_flags.UR' : 'tcp.response_flags.UF');
      if (!connected) cluster!.outlier?.record(host, 503); // a connect failure counts as a 503 (non-split mode)
      if (!connected) meter?.failed('UF');
      cleanup();
    });
    client.on('error', cleanup);
    // node resets a socket's timer on its reads and on its writes, and every byte piped is read
    // on one socket and written on the other: the upstream's timer alone sees all the traffic.
    upstream.on('timeout', () => {
      stats.inc(connected ? 'tcp.idle_timeout' : 'tcp.response_flags.UF');
      if (!connected) meter?.failed('UF');
      cleanup();
    });
    upstream.on('close', cleanup);
    client.on('close', cleanup);
  }
}
