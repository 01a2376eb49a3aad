import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Resource } from '../../../api/resource.js';
import type { PortProtocol, WorkloadInstance } from '../../../api/snapshot.js';
import { parseText } from '../../../config/loader.js';
import type { SpecCall, SpecCommand, SpecStep, WorkloadSpec } from '../workload/spec.js';
import type { Call, Step, Topology, TopologyService, TopologyVersion } from './model.js';

// From a topology to what the local mesh runs: a Namespace per namespace and a Kubernetes
// Service per topology service (config objects, as if loaded from files), and one workload
// instance per replica with the spec its application process runs.

export interface PlanOptions {
  stateDir: string;
  /** The instance's own loopback address (the supervisor's allocator). */
  allocateAddress: (instanceName: string, namespace: string) => string;
}

export interface MeshPlan {
  resources: Resource[];
  instances: Array<{ instance: WorkloadInstance; spec: WorkloadSpec }>;
}

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function planMesh(t: Topology, opts: PlanOptions): MeshPlan {
  const resources = [...namespaceResources(t), ...t.services.map((s) => serviceResource(t, s))];
  const instances: MeshPlan['instances'] = [];
  for (const s of t.services) {
    for (const v of s.versions) {
      for (let i = 0; i < v.replicas; i++) instances.push(planInstance(s, v, i, opts));
    }
  }
  return { resources, instances };
}

function planInstance(s: TopologyService, v: TopologyVersion, index: number, opts: PlanOptions): MeshPlan['instances'][number] {
  const workload = `${s.name}-${v.name}`;
  const name = `${workload}-${index}`;
  const ports = s.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol, socketPath: socketPath(opts.stateDir, s.namespace, name, p.targetPort) }));
  const instance: WorkloadInstance = {
    name,
    workload,
    namespace: s.namespace,
    serviceAccount: s.serviceAccount,
    labels: { ...v.labels, app: s.name, version: v.name },
    address: opts.allocateAddress(name, s.namespace),
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol as PortProtocol, app: { socketPath: p.socketPath } })),
    healthy: true,
    source: 'topology',
  };
  const b = v.behaviour;
  const spec: WorkloadSpec = {
    service: s.name,
    namespace: s.namespace,
    version: v.name,
    workload,
    instance: name,
    serviceAccount: s.serviceAccount,
    ports,
    errorRate: b.errorRate,
    responseSize: b.responseSize,
    ...(b.latency ? { latency: b.latency } : {}),
    script: b.script.map((st) => specStep(st, s.namespace)),
    seed: seedOf(`${s.namespace}/${name}`),
  };
  return { instance, spec };
}

/** `<stateDir>/sockets/<ns>.<instance>.<port>.sock`, or a hashed name when that is too long for a unix socket. */
export function socketPath(stateDir: string, namespace: string, instance: string, port: number): string {
  const dir = join(stateDir, 'sockets');
  const plain = join(dir, `${namespace}.${instance}.${port}.sock`);
  if (Buffer.byteLength(plain) <= MAX_SOCKET_PATH) return plain;
  const hashed = join(dir, `${createHash('sha256').update(`${namespace}.${instance}.${port}`).digest('hex').slice(0, 16)}.sock`);
  if (Buffer.byteLength(hashed) <= MAX_SOCKET_PATH) return hashed;
  throw new Error(`state directory ${stateDir} is too deep for unix socket paths (at most ${MAX_SOCKET_PATH} bytes); use a shorter --state-dir`);
}

function specStep(s: Step, callerNamespace: string): SpecStep {
  if (s.kind === 'concurrent') return { kind: 'concurrent', steps: s.steps.map((x) => specStep(x, callerNamespace) as SpecCommand) };
  if (s.kind === 'sleep') return { kind: 'sleep', latency: s.latency };
  return { kind: 'call', call: specCall(s.call, callerNamespace) };
}

function specCall(c: Call, callerNamespace: string): SpecCall {
  const host = c.namespace === callerNamespace ? c.service : `${c.service}.${c.namespace}`;
  const out: SpecCall = {
    service: c.service,
    namespace: c.namespace,
    authority: c.hostname ?? `${host}:${c.port}`,
    port: c.port,
    protocol: c.protocol,
    path: c.path,
    method: c.method,
    size: c.size,
    probability: c.probability,
    attempts: c.attempts,
    onError: c.onError,
  };
  if (c.timeoutMs !== undefined) out.timeoutMs = c.timeoutMs;
  if (c.fallback !== undefined) out.fallback = c.fallback;
  return out;
}

function seedOf(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0);
}

// ------------------------------------------------------------ config objects

function namespaceResources(t: Topology): Resource[] {
  const first = new Map<string, number>();
  for (const s of t.services) if (!first.has(s.namespace)) first.set(s.namespace, s.line);
  return [...first].map(([ns, line]) =>
    resourceFrom(t.file, line, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } }),
  );
}

/** Istio picks a port's protocol from `appProtocol` first, then from the name prefix. */
const APP_PROTOCOL: Record<string, string> = { http: 'http', http2: 'http2', grpc: 'grpc', tcp: 'tcp' };

function serviceResource(t: Topology, s: TopologyService): Resource {
  return resourceFrom(t.file, s.line, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name, service: s.name } },
    spec: {
      selector: { app: s.name },
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP', appProtocol: APP_PROTOCOL[p.protocol] })),
    },
  });
}

/** Built through the loader, so the object is exactly what a file with this content gives; it points at the topology's line. */
function resourceFrom(file: string, line: number, obj: Record<string, unknown>): Resource {
  const res = parseText(stringify(obj), file, { defaultNamespace: '' });
  if (res.errors.length || res.resources.length !== 1) throw new Error(`internal: generated ${String(obj.kind)} did not load: ${res.errors.map((e) => e.format()).join('; ')}`);
  const r = res.resources[0];
  r.origin = { file, line };
  return r;
}
