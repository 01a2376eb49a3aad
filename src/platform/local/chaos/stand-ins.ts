import { startFaultyUpstream, type FaultyUpstream } from '../faulty-upstream.js';
import type { ControlPlaneClient } from './control-plane-client.js';
import { ChaosError } from './errors.js';

// Stand-ins for external dependencies: an HTTP server in the mesh daemon (the programmable
// upstream of faulty-upstream.ts) at a loopback address of the mesh, behind a ServiceEntry for
// the external host (MESH_EXTERNAL, STATIC, the stand-in as its endpoint). The topology calls
// the host (a call with `hostname: api.payments.example:80`); `external-outage` breaks the
// stand-in the way a dependency fails: it refuses connections, stops answering, or answers 503.

export type OutageMode = 'refuse' | 'hang' | 'error';

/** Held requests of a `hang` wait this long (they are cut when the outage is cleared). */
const HANG_MS = 3_600_000;

interface StandIn {
  host: string;
  namespace: string;
  address: string;
  port: number; // what callers dial (the ServiceEntry port)
  listenPort: number; // where the stand-in listens (its endpoint port)
  server?: FaultyUpstream; // absent while it refuses connections
  outage?: OutageMode;
}

export interface StandInView {
  host: string;
  namespace: string;
  address: string;
  port: number;
  endpoint: string;
  state: 'serving' | OutageMode;
  requests: number;
}

export class StandIns {
  private readonly byHost = new Map<string, StandIn>();

  constructor(
    private readonly cp: () => ControlPlaneClient,
    private readonly allocateAddress: (name: string) => string,
  ) {}

  hosts(): string[] {
    return [...this.byHost.keys()];
  }

  list(): StandInView[] {
    return [...this.byHost.values()].map((s) => ({
      host: s.host, namespace: s.namespace, address: s.address, port: s.port, endpoint: `${s.address}:${s.listenPort}`,
      state: s.outage ?? 'serving', requests: s.server?.requests ?? 0,
    }));
  }

  /** Starts a stand-in and applies its ServiceEntry. */
  async add(host: string, port = 80, namespace = 'default'): Promise<StandInView> {
    host = host.toLowerCase();
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host) || !host.includes('.')) throw new ChaosError('E_CHAOS_PARAM', `"${host}" is not a host name (like api.payments.example)`);
    if (this.byHost.has(host)) throw new ChaosError('E_CHAOS_CONFLICT', `a stand-in for ${host} already runs`);
    const address = this.allocateAddress(`stand-in/${host}`);
    const server = await startFaultyUpstream({ host: address, port: 0, name: host });
    const s: StandIn = { host, namespace, address, port, listenPort: server.port, server };
    try {
      await this.cp().apply([serviceEntry(s)], `stand-in ${host}`);
    } catch (e) {
      await server.close();
      throw e;
    }
    this.byHost.set(host, s);
    return this.list().find((v) => v.host === host)!;
  }

  async remove(host: string): Promise<void> {
    const s = this.require(host);
    this.byHost.delete(s.host);
    await this.cp().delete([{ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace: s.namespace, name: entryName(s.host) }], `stand-in ${host}`).catch(() => undefined);
    await s.server?.close();
  }

  async breakHost(host: string, mode: OutageMode): Promise<void> {
    const s = this.require(host);
    if (s.outage) throw new ChaosError('E_CHAOS_CONFLICT', `${host} is already in an outage (${s.outage})`);
    s.outage = mode;
    if (mode === 'refuse') {
      const server = s.server;
      s.server = undefined;
      await server?.close(); // the port closes: connections are refused
    } else if (mode === 'hang') s.server!.script({ delayMs: HANG_MS });
    else s.server!.script({ failPercent: 100, status: 503 });
  }

  async restore(host: string): Promise<void> {
    const s = this.byHost.get(host);
    if (!s || !s.outage) return;
    const mode = s.outage;
    s.outage = undefined;
    if (mode === 'error') return s.server!.script({});
    // A hang ends for the held requests too: their connections are cut, as a dependency coming back does.
    await s.server?.close();
    s.server = await startFaultyUpstream({ host: s.address, port: s.listenPort, name: s.host });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byHost.values()].map((s) => s.server?.close()));
    this.byHost.clear();
  }

  private require(host: string): StandIn {
    const s = this.byHost.get(host.toLowerCase());
    if (!s) throw new ChaosError('E_CHAOS_TARGET', `no stand-in serves ${host}; start one with: meshmedic chaos stand-in ${host}`);
    return s;
  }
}

function entryName(host: string): string {
  return host.replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/-+$/, '');
}

function serviceEntry(s: StandIn): Record<string, unknown> {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: entryName(s.host), namespace: s.namespace, labels: { 'meshmedic.io/stand-in': 'true' } },
    spec: {
      hosts: [s.host],
      location: 'MESH_EXTERNAL',
      resolution: 'STATIC',
      ports: [{ number: s.port, name: 'http', protocol: 'HTTP' }],
      endpoints: [{ address: s.address, ports: { http: s.listenPort } }],
    },
  };
}
