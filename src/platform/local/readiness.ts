import { connect } from 'node:net';
import { Client } from 'undici';
import type { ControlPlane } from '../../controlplane/control-plane.js';
import type { PlannedInstance } from './mesh-plan.js';

// The control plane decides which instances get traffic the way Kubernetes does with
// readiness probes: it asks each application (over its socket) `GET /healthz` every interval
// and marks the instance healthy or not in the registry. An instance whose process crashed
// stops answering and drops out of every load-balancing set until it is back.

export class ReadinessProber {
  private timer?: NodeJS.Timeout;
  private readonly healthy = new Map<string, boolean>();
  private running = false;
  /** One keep-alive client per application socket: a probe every half second should not cost a connection. */
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly cp: ControlPlane,
    private readonly instances: readonly PlannedInstance[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    const tick = () => {
      void this.probeAll().finally(() => {
        if (this.running) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.running = true;
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.clients.values()) void c.close();
    this.clients.clear();
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.instances.map(async (p) => {
      const ok = await probe(this.clients, p);
      if (this.healthy.get(p.id) === ok) return;
      this.healthy.set(p.id, ok);
      this.cp.registry.upsert({ ...p.instance, healthy: ok });
    }));
  }
}

function clientFor(clients: Map<string, Client>, socketPath: string): Client {
  let c = clients.get(socketPath);
  if (!c || c.closed || c.destroyed) {
    c = new Client('http://app', { socketPath, headersTimeout: 1000, bodyTimeout: 1000 });
    clients.set(socketPath, c);
  }
  return c;
}

/** A TCP port is ready when it accepts a connection (Kubernetes' tcpSocket probe). */
function tcpProbe(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function probe(clients: Map<string, Client>, p: PlannedInstance): Promise<boolean> {
  for (const port of p.spec.ports) {
    if (port.protocol === 'tcp') {
      if (!(await tcpProbe(port.socketPath))) return false;
      continue;
    }
    try {
      const res = await clientFor(clients, port.socketPath).request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      if (res.statusCode !== 200) return false;
    } catch {
      return false;
    }
  }
  return true;
}
