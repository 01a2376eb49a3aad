import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen } from './listeners/server-lifecycle.js';
import type { Sidecar } from './sidecar.js';
import { clusterStatuses, clusterStatusText } from './upstream/outlier-status.js';
import type { XdsStatus } from './xds-client.js';
import { serveStats, STATS_PATH } from '../telemetry/sidecar/stats-server.js';
import { NETWORK_FAULTS_PATH, serveNetworkFaults } from './chaos/network-faults.js';

// The sidecar's admin endpoint (Envoy's :15000): what it runs and how it is doing.
// GET /config_dump  the snapshot in force (JSON), 503 before the first one
// GET /ready        200 once a snapshot is applied and its listeners are bound
// GET /stats        counters (`name: value` lines; `?format=json` for JSON)
// GET /stats/prometheus  Istio's standard metrics in Prometheus text format (also on :15090)
// GET /xds_status   the control-plane connection: accepted version, last NACK
// GET /clusters     each cluster's endpoints: HEALTHY / UNHEALTHY / EJECTED, ejections, time
//                   left, consecutive errors (`?format=json` for JSON)
// GET /outlier_events  the last outlier ejections and returns (JSON, oldest first)
// GET|PUT /chaos/network  chaos network delays in force on this sidecar (chaos/network-faults.ts)

export class AdminServer {
  private readonly server: Server;
  private ready = false;

  constructor(
    private readonly sidecar: Sidecar,
    private readonly xdsStatus?: () => XdsStatus,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  listen(address: string, port: number): Promise<void> {
    return listen(this.server, address, port);
  }

  close(): Promise<void> {
    return closeServer(this.server, 0);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (url.pathname === NETWORK_FAULTS_PATH) return serveNetworkFaults(this.sidecar, req, res); // chaos: GET/PUT
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n');
    switch (url.pathname) {
      case '/config_dump': {
        const s = this.sidecar.snapshot;
        return s ? send(res, 200, 'application/json', JSON.stringify(s, null, 2) + '\n') : send(res, 503, 'application/json', '{"error":"no snapshot applied yet"}\n');
      }
      case '/ready':
        return void this.checkReady().then((ok) => send(res, ok ? 200 : 503, 'text/plain', ok ? 'LIVE\n' : 'PRE_INITIALIZING\n'));
      case STATS_PATH: // Istio's standard metrics, Prometheus text format (as on :15090)
        return serveStats(this.sidecar, req, res);
      case '/stats':
        return url.searchParams.get('format') === 'json'
          ? send(res, 200, 'application/json', JSON.stringify(this.sidecar.stats.toJSON()) + '\n')
          : send(res, 200, 'text/plain', this.sidecar.stats.toText());
      case '/xds_status':
        return send(res, 200, 'application/json', JSON.stringify(this.xdsStatus?.() ?? null) + '\n');
      case '/clusters': {
        const list = clusterStatuses(this.sidecar.current, this.sidecar.outliers);
        return url.searchParams.get('format') === 'json'
          ? send(res, 200, 'application/json', JSON.stringify({ clusters: list }, null, 2) + '\n')
          : send(res, 200, 'text/plain', clusterStatusText(list));
      }
      case '/certs': {
        // Envoy's /certs: the workload certificate in force (never its key).
        const m = this.sidecar.tls?.current;
        const certs = m ? [{ spiffeId: m.spiffeId, serial: m.serial, validFrom: new Date(m.notBefore).toISOString(), expiration: new Date(m.notAfter).toISOString(), installed: this.sidecar.tls!.installed }] : [];
        return send(res, 200, 'application/json', JSON.stringify({ certificates: certs }, null, 2) + '\n');
      }
      case '/outlier_events':
        return send(res, 200, 'application/json', JSON.stringify({ events: this.sidecar.outliers.events.list() }, null, 2) + '\n');
      default:
        return send(res, 404, 'text/plain', 'not found: /config_dump /ready /stats /stats/prometheus /xds_status /clusters /outlier_events /certs\n');
    }
  }

  private async checkReady(): Promise<boolean> {
    if (this.ready) return true;
    if (!this.sidecar.snapshot) return false;
    // As istio-agent's readiness: a sidecar that speaks mutual TLS is ready once its certificate is in.
    if (this.sidecar.tls && this.sidecar.tls.current === null) return false;
    await this.sidecar.settled();
    this.ready = true;
    return true;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), server: 'meshmedic' });
  res.end(body);
}
