import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { PortProtocol, WorkloadInstance } from '../../src/api/snapshot.js';
import { parseText } from '../../src/config/loader.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { nodeIdOf } from '../../src/controlplane/registry.js';
import { faultInjectionFilter } from '../../src/proxy/filters/fault-injection.js';
import { Continue, type HttpFilterFactory } from '../../src/proxy/filters/http-filter.js';
import { downstreamSocket, rbacFilter } from '../../src/proxy/filters/rbac.js';
import { jwtAuthnFilter } from '../../src/proxy/filters/jwt-authn.js';
import type { HttpStream } from '../../src/proxy/http-stream.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import { connectionSecurity } from '../../src/proxy/tls/peer-identity.js';
import { controlPlaneSigner, WorkloadCredentials } from '../../src/proxy/tls/workload-credentials.js';
import { systemClock, type Clock } from '../../src/proxy/clock.js';
import { completionTelemetryFilters, peerMetadataFilter } from '../../src/telemetry/sidecar/filters.js';
import { tracingFilter } from '../../src/telemetry/tracing/tracing-filter.js';
import type { Span } from '../../src/telemetry/tracing/span.js';

// A small real mesh for security tests, all in this process on 127.10.30.0/24: the real control
// plane (its CA signs every sidecar's certificate over HTTP with the node's bootstrap
// credential), real sidecars with their listeners, and echo applications. Clients:
//   sleep  (ns front, sa sleep)     with a certificate
//   other  (ns other, sa other)     with a certificate
//   legacy (ns front, sa legacy)    a sidecar without a certificate (plaintext)
// Server: httpbin (ns back, sa httpbin) on ports 8000 and 9000.

export const NET = '127.10.30';
export const ROOT_NS = 'istio-system';

export const SERVICES = `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: back}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}, {name: http-admin, port: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: sleep, namespace: front}
spec: {selector: {app: sleep}, ports: [{name: http, port: 8080}]}
`;

export interface InboundSeen {
  port: number;
  path: string;
  principal: string;
  mtls: boolean;
  /** The client certificate's serial (mTLS only). */
  serial: string;
  status: number;
  details: string;
}

export interface MeshMember {
  id: string;
  instance: WorkloadInstance;
  sidecar: Sidecar;
  credentials: WorkloadCredentials | null;
  /** Inbound streams this sidecar completed (with the peer it saw). */
  inbound: InboundSeen[];
}

export interface EchoApp {
  server: Server;
  close(): Promise<void>;
}

/** An application answering `{path, headers}` as JSON. */
export async function startEcho(address: string, port: number): Promise<EchoApp> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ path: req.url, headers: req.headers });
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      // `/slow...`: the answer takes a while, so a request is in flight across a certificate rotation.
      if (req.url?.startsWith('/slow')) setTimeout(answer, 150);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An h2c application (clusters of protocol http2 speak h2c to it) answering `{path, protocol}`. */
export async function startH2Echo(address: string, port: number): Promise<EchoApp> {
  const server = createH2cServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, protocol: req.httpVersion })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return { server: server as unknown as Server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function inboundRecorder(seen: InboundSeen[]): HttpFilterFactory {
  return (listener) =>
    listener.direction !== 'inbound'
      ? null
      : {
          name: 'test.inbound-recorder',
          onRequest: () => Continue,
          onComplete(s: HttpStream) {
            const sec = connectionSecurity(downstreamSocket(s));
            seen.push({ port: listener.port, path: s.path, principal: sec?.principal ?? '', mtls: sec?.mtls === true, serial: sec?.serial ?? '', status: s.status, details: s.details });
          },
        };
}

export interface MeshOptions {
  workloadCertTtlMs?: number;
  clock?: Clock;
  /** Renewal ratio of the sidecars' certificates (default 0.5). */
  renewAtRatio?: number;
  /** Where every sidecar's finished spans go. */
  spans?: Span[];
}

export class SecurityMesh {
  readonly cp: ControlPlane;
  readonly members = new Map<string, MeshMember>();
  readonly apps: EchoApp[] = [];

  constructor(private readonly opts: MeshOptions = {}) {
    this.cp = new ControlPlane({ host: `${NET}.1`, rootNamespace: ROOT_NS, security: { workloadCertTtlMs: opts.workloadCertTtlMs } });
  }

  async start(): Promise<void> {
    await this.cp.start();
    this.apply(SERVICES);
  }

  apply(yaml: string): void {
    const r = parseText(yaml, 'test.yaml', { defaultNamespace: 'default' });
    if (r.errors.length) throw new Error(r.errors.map((e) => e.format()).join('\n'));
    this.cp.store.apply(r.resources);
  }

  /** Removes every PeerAuthentication, AuthorizationPolicy and DestinationRule. */
  clearPolicies(): void {
    for (const kind of ['PeerAuthentication', 'AuthorizationPolicy', 'DestinationRule', 'RequestAuthentication'] as const) {
      for (const r of this.cp.store.list(kind)) this.cp.store.delete(kind, r.metadata.namespace ?? '', r.metadata.name);
    }
  }

  async add(name: string, ns: string, sa: string, address: string, opts: { ports?: Array<{ port: number; app: number; protocol?: PortProtocol }>; certificate?: boolean; app?: string } = {}): Promise<MeshMember> {
    const app = opts.app ?? name;
    const ports = opts.ports ?? [];
    const instance: WorkloadInstance = {
      name: `${name}-0`,
      workload: `${name}-v1`,
      namespace: ns,
      serviceAccount: sa,
      labels: { app, version: 'v1' },
      address,
      ports: ports.map((p) => ({ name: `http-${p.port}`, port: p.port, protocol: p.protocol ?? 'http', app: { host: `${NET}.${100 + Number(address.split('.')[3])}`, port: p.app } })),
      healthy: true,
      source: 'registered',
    };
    for (const p of ports) {
      const appAddress = `${NET}.${100 + Number(address.split('.')[3])}`;
      this.apps.push(p.protocol === 'http2' || p.protocol === 'grpc' ? await startH2Echo(appAddress, p.app) : await startEcho(appAddress, p.app));
    }
    this.cp.registry.upsert(instance);
    const id = nodeIdOf(instance);
    const credentials =
      opts.certificate === false
        ? null
        : new WorkloadCredentials({ signer: controlPlaneSigner(this.cp.url, id, this.cp.ca.credentialFor(id)), clock: this.opts.clock ?? systemClock, renewAtRatio: this.opts.renewAtRatio });
    const inbound: InboundSeen[] = [];
    const spans = this.opts.spans;
    const sidecar = new Sidecar({
      tls: credentials ?? undefined,
      ...(spans && { spanSink: { add: (span: Span) => void spans.push(span) } }),
      httpFilters: [peerMetadataFilter, tracingFilter, jwtAuthnFilter, rbacFilter, faultInjectionFilter, inboundRecorder(inbound), ...completionTelemetryFilters],
    });
    if (credentials) await credentials.renewNow();
    const m: MeshMember = { id, instance, sidecar, credentials, inbound };
    this.members.set(name, m);
    return m;
  }

  /** Recomputes every snapshot and applies it to every sidecar (what the xDS push does), then waits for the listeners. */
  async sync(): Promise<void> {
    this.cp.flush();
    for (const m of this.members.values()) {
      const snap = this.cp.snapshotFor(m.id);
      if (!snap) throw new Error(`no snapshot for ${m.id}`);
      const r = m.sidecar.applySnapshot(snap);
      if (!r.ok) throw new Error(`${m.id} rejected its snapshot: ${r.error}`);
    }
    for (const m of this.members.values()) await m.sidecar.settled();
    for (const m of this.members.values()) if (m.sidecar.bindErrors.size) throw new Error(`${m.id}: ${[...m.sidecar.bindErrors.values()].join('; ')}`);
  }

  member(name: string): MeshMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  async stop(): Promise<void> {
    for (const m of this.members.values()) {
      m.credentials?.stop();
      await m.sidecar.stop(0);
    }
    for (const a of this.apps) await a.close();
    await this.cp.stop();
  }
}

export interface Outcome {
  status: number; // 0: the connection was reset / refused
  body: string;
  error?: string;
  headers: IncomingHttpHeaders;
}

/** A request as an application sends it through its sidecar (HTTP_PROXY style), or directly to an address. */
export function send(via: { address: string; port: number }, url: string, opts: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const u = url.startsWith('http') ? new URL(url) : null;
    const req = request({
      host: via.address,
      port: via.port,
      method: opts.method ?? 'GET',
      path: url,
      headers: { ...(u && { host: u.host }), ...(opts.headers ?? {}) },
      agent: false,
      localAddress: opts.localAddress,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', (e) => resolve({ status: 0, body: '', error: e.message, headers: {} }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', error: (e as NodeJS.ErrnoException).code ?? e.message, headers: {} }));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}
