import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import { closeServer, listen } from '../../proxy/listeners/server-lifecycle.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from './exposition.js';
import { telemetryOf } from './sidecar-telemetry.js';

// The sidecar's Prometheus endpoint, as Envoy under Istio serves it on :15090: GET
// /stats/prometheus answers the Istio standard metrics in the text exposition format. Its own
// server, not the admin port's, so a scraper reaches metrics and nothing else. (The admin server
// answers the same path too, as Envoy's admin does.)

export const STATS_PATH = '/stats/prometheus';

export function serveStats(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
    res.end('GET only\n');
    return;
  }
  const body = prometheusText(telemetryOf(ctx).metrics);
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export class StatsServer {
  private readonly server: Server;

  constructor(private readonly ctx: ProxyContext) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === STATS_PATH) return serveStats(this.ctx, req, res);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${STATS_PATH}\n`);
    });
  }

  listen(address: string, port: number): Promise<void> {
    return listen(this.server, address, port);
  }

  /** The port bound (tests listen on port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  close(): Promise<void> {
    return closeServer(this.server, 0);
  }
}
