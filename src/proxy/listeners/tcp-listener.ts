import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Listener } from '../../api/snapshot.js';
import type { ProxyContext } from '../proxy-context.js';
import type { ActiveListener } from './active-listener.js';
import { closeServer, listen } from './server-lifecycle.js';

// A TCP listener (Istio's tcp route with one destination): each connection is piped, bytes
// both ways, to one host of `tcpCluster` chosen by the cluster's balancer. No cluster or no
// healthy host (NC/UH) or a failed connect (UF) closes the client connection.

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
    if (!host) {
      stats.inc(cluster ? 'tcp.response_flags.UH' : 'tcp.response_flags.NC');
      client.destroy();
      return;
    }
    this.sockets.add(client);
    host.active++;
    const e = host.endpoint;
    const upstream = e.socketPath ? connect({ path: e.socketPath }) : connect({ host: e.address, port: e.port, noDelay: true });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const cleanup = () => {
      if (!this.sockets.delete(client)) return;
      host.active--;
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', () => {
      stats.inc(connected ? 'tcp.response_flags.UR' : 'tcp.response_flags.UF');
      cleanup();
    });
    client.on('error', cleanup);
    upstream.on('close', cleanup);
    client.on('close', cleanup);
  }
}
