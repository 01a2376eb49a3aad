import { readFileSync } from 'node:fs';
import { InputErrors, MeshmedicError } from '../../../api/errors.js';
import type { FieldPath } from '../../../api/resource.js';
import {
  DEFAULT_NAMESPACE,
  DEFAULT_PORT,
  DEFAULT_SERVICE_ACCOUNT,
  DEFAULT_VERSION,
  type Behaviour,
  type Latency,
  type ServicePort,
  type Step,
  type Topology,
  type TopologyProtocol,
  type TopologyService,
  type TopologyVersion,
} from './model.js';
import { parseLatency, parseScript, type CallDefaults, type CallSources } from './parse-script.js';
import { resolveTopology } from './resolve.js';
import { parseByteSize, parseDuration, parsePercentage } from './units.js';
import { YamlReader, type Fields, type YNode } from './yaml-reader.js';

// Reads a topology file: isotope's MockServiceGraph (`defaults`, `services` with `script`s)
// plus meshmedic's extensions (namespace, serviceAccount, versions, ports, latency, call
// timeouts and fallbacks; docs/topology.md). Input is checked whole: every error comes back
// with file:line and field, and there is no topology when there is any.

export interface TopologyParseResult {
  topology?: Topology;
  errors: MeshmedicError[];
  /** Fields isotope has that the local mesh accepts but does not act on. */
  warnings: MeshmedicError[];
}

const TOP_FIELDS = ['apiVersion', 'kind', 'defaults', 'services'];
const DEFAULT_FIELDS = ['type', 'numReplicas', 'errorRate', 'requestSize', 'responseSize', 'script', 'numRbacPolicies', 'namespace', 'serviceAccount', 'latency', 'ports', 'onError', 'timeout'];
const SERVICE_FIELDS = ['name', 'type', 'numReplicas', 'isEntrypoint', 'errorRate', 'responseSize', 'script', 'namespace', 'cluster', 'serviceAccount', 'versions', 'ports', 'latency'];
const VERSION_FIELDS = ['name', 'replicas', 'labels', 'errorRate', 'latency', 'script', 'responseSize'];
const PORT_FIELDS = ['name', 'port', 'targetPort', 'protocol'];
const PROTOCOLS: readonly TopologyProtocol[] = ['http', 'http2', 'grpc', 'tcp'];
/** Ports the sidecar (and Istio's) keeps for itself on every instance address. */
const RESERVED_PORTS = new Set([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090]);
const DNS_LABEL = { re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, what: 'a DNS label (lower-case letters, digits and -, at most 63)' };
const SA_NAME = { re: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, what: 'a service account name (lower-case DNS name)' };

interface Defaults {
  protocol: TopologyProtocol;
  numReplicas: number;
  namespace: string;
  serviceAccount: string;
  ports?: ServicePort[];
  behaviour: Behaviour;
  call: CallDefaults;
}

export function parseTopology(text: string, file: string): TopologyParseResult {
  const r = new YamlReader(file, text);
  if (r.errors.length) return { errors: r.errors, warnings: [] };
  const sources: CallSources = new Map();
  const top = r.map(r.root, [], TOP_FIELDS);
  let services: TopologyService[] = [];
  if (top) {
    const kind = r.scalar(top.get('kind'));
    if (top.has('kind') && kind !== 'MockServiceGraph') r.fail(top.get('kind'), ['kind'], `kind must be MockServiceGraph (isotope's), found ${JSON.stringify(kind)}`);
    if (top.has('apiVersion')) r.string(top.get('apiVersion'), ['apiVersion']);
    const defaults = parseDefaults(r, top.has('defaults') ? top.get('defaults') : undefined, sources);
    if (!top.has('services')) r.fail(r.root, ['services'], 'a topology needs `services`');
    else services = (r.seq(top.get('services'), ['services']) ?? []).flatMap((n, i) => parseService(r, n, ['services', i], defaults, sources) ?? []);
    if (top.has('services') && services.length === 0 && r.errors.length === 0) r.fail(top.get('services'), ['services'], 'a topology needs at least one service');
  }
  const topology: Topology = { file, services };
  if (r.errors.length === 0) resolveTopology(r, topology, sources);
  return r.errors.length ? { errors: r.errors, warnings: r.warnings } : { topology, errors: [], warnings: r.warnings };
}

/** Read and parse a topology file; throws InputErrors when it is not valid. */
export function loadTopology(path: string): { topology: Topology; warnings: MeshmedicError[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_FILE_READ';
    throw new InputErrors([new MeshmedicError(code, (e as Error).message, { file: path, line: 0 })]);
  }
  const res = parseTopology(text, path);
  if (!res.topology) throw new InputErrors(res.errors);
  return { topology: res.topology, warnings: res.warnings };
}

function parseDefaults(r: YamlReader, node: YNode, sources: CallSources): Defaults {
  const d: Defaults = {
    protocol: 'http',
    numReplicas: 1,
    namespace: DEFAULT_NAMESPACE,
    serviceAccount: DEFAULT_SERVICE_ACCOUNT,
    behaviour: { errorRate: 0, responseSize: 0, script: [] },
    call: { size: 0, onError: 'propagate' },
  };
  if (node === undefined) return d;
  const f = r.map(node, ['defaults'], DEFAULT_FIELDS);
  if (!f) return d;
  if (f.has('type')) d.protocol = parseType(r, f) ?? d.protocol;
  if (f.has('numReplicas')) d.numReplicas = r.int(f.get('numReplicas'), f.at('numReplicas'), 0, 1000) ?? 1;
  if (f.has('namespace')) d.namespace = r.string(f.get('namespace'), f.at('namespace'), DNS_LABEL) ?? d.namespace;
  if (f.has('serviceAccount')) d.serviceAccount = r.string(f.get('serviceAccount'), f.at('serviceAccount'), SA_NAME) ?? d.serviceAccount;
  if (f.has('ports')) d.ports = parsePorts(r, f.get('ports'), f.at('ports'), d.protocol);
  if (f.has('numRbacPolicies')) r.warn(f.get('numRbacPolicies'), f.at('numRbacPolicies'), 'ignored: the local mesh generates no RBAC policies from a topology');
  if (f.has('requestSize')) d.call.size = r.parsed(f.get('requestSize'), f.at('requestSize'), parseByteSize) ?? 0;
  if (f.has('timeout')) {
    d.call.timeoutMs = r.parsed(f.get('timeout'), f.at('timeout'), parseDuration);
    if (d.call.timeoutMs === 0) r.fail(f.get('timeout'), f.at('timeout'), 'timeout must be more than 0');
  }
  if (f.has('onError')) {
    const v = r.scalar(f.get('onError'));
    if (v === 'propagate' || v === 'fallback') d.call.onError = v;
    else r.fail(f.get('onError'), f.at('onError'), 'onError must be propagate or fallback');
  }
  d.behaviour = parseBehaviour(r, f, d.behaviour, d.call, sources);
  return d;
}

function parseService(r: YamlReader, node: YNode, path: FieldPath, d: Defaults, sources: CallSources): TopologyService | undefined {
  const f = r.map(node, path, SERVICE_FIELDS);
  if (!f) return undefined;
  if (!f.has('name')) return r.fail(node, path, 'a service needs `name`');
  const name = r.string(f.get('name'), f.at('name'), DNS_LABEL);
  if (f.has('cluster')) r.warn(f.get('cluster'), f.at('cluster'), 'ignored: the local mesh is one cluster');
  const protocol = f.has('type') ? (parseType(r, f) ?? d.protocol) : d.protocol;
  const replicas = f.has('numReplicas') ? (r.int(f.get('numReplicas'), f.at('numReplicas'), 0, 1000) ?? 1) : d.numReplicas;
  const ports = f.has('ports')
    ? parsePorts(r, f.get('ports'), f.at('ports'), protocol)
    : (d.ports ?? [{ name: protocol, port: DEFAULT_PORT, targetPort: DEFAULT_PORT, protocol }]);
  const behaviour = parseBehaviour(r, f, cloneBehaviour(d.behaviour, sources), d.call, sources);
  let versions: TopologyVersion[];
  if (f.has('versions')) {
    const list = r.seq(f.get('versions'), f.at('versions')) ?? [];
    if (list.length === 0) r.fail(f.get('versions'), f.at('versions'), 'versions, when given, lists at least one version');
    versions = list.flatMap((v, i) => parseVersion(r, v, [...f.at('versions'), i], replicas, behaviour, d.call, sources) ?? []);
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v.name)) r.fail(list[i], [...f.at('versions'), i, 'name'], `version ${v.name} appears twice`);
      seen.add(v.name);
    });
  } else {
    versions = [{ name: DEFAULT_VERSION, replicas, labels: {}, behaviour, line: r.line(node) }];
  }
  if (!name) return undefined;
  return {
    name,
    namespace: f.has('namespace') ? (r.string(f.get('namespace'), f.at('namespace'), DNS_LABEL) ?? d.namespace) : d.namespace,
    serviceAccount: f.has('serviceAccount') ? (r.string(f.get('serviceAccount'), f.at('serviceAccount'), SA_NAME) ?? d.serviceAccount) : d.serviceAccount,
    isEntrypoint: f.has('isEntrypoint') ? (r.bool(f.get('isEntrypoint'), f.at('isEntrypoint')) ?? false) : false,
    ports,
    versions,
    line: r.line(node),
  };
}

function parseVersion(r: YamlReader, node: YNode, path: FieldPath, replicas: number, inherited: Behaviour, call: CallDefaults, sources: CallSources): TopologyVersion | undefined {
  const f = r.map(node, path, VERSION_FIELDS);
  if (!f) return undefined;
  if (!f.has('name')) return r.fail(node, path, 'a version needs `name`');
  const name = r.string(f.get('name'), f.at('name'), { re: /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, what: 'a label value' });
  const version: TopologyVersion = {
    name: name ?? '',
    replicas: f.has('replicas') ? (r.int(f.get('replicas'), f.at('replicas'), 0, 1000) ?? 1) : replicas,
    labels: f.has('labels') ? (r.labels(f.get('labels'), f.at('labels')) ?? {}) : {},
    behaviour: parseBehaviour(r, f, cloneBehaviour(inherited, sources), call, sources),
    line: r.line(node),
  };
  for (const reserved of ['app', 'version']) {
    if (reserved in version.labels) r.fail(f.get('labels'), [...f.at('labels'), reserved], `label "${reserved}" is set from the service and version names`);
  }
  return name ? version : undefined;
}

/** The behaviour fields present in `f` override `base` (isotope's defaults, or the service's for a version). */
function parseBehaviour(r: YamlReader, f: Fields, base: Behaviour, call: CallDefaults, sources: CallSources): Behaviour {
  const b = base;
  if (f.has('errorRate')) b.errorRate = r.parsed(f.get('errorRate'), f.at('errorRate'), parsePercentage) ?? 0;
  if (f.has('responseSize')) b.responseSize = r.parsed(f.get('responseSize'), f.at('responseSize'), parseByteSize) ?? 0;
  if (f.has('latency')) b.latency = parseLatency(r, f.get('latency'), f.at('latency'));
  if (f.has('script')) b.script = parseScript(r, f.get('script'), f.at('script'), call, sources) ?? [];
  return b;
}

function parseType(r: YamlReader, f: Fields): TopologyProtocol | undefined {
  const v = r.scalar(f.get('type'));
  if (v === 'http' || v === 'grpc') return v;
  return r.fail(f.get('type'), f.at('type'), `type must be http or grpc (isotope's), found ${JSON.stringify(v ?? null)}; use ports[].protocol for http2 and tcp`);
}

function parsePorts(r: YamlReader, node: YNode, path: FieldPath, protocol: TopologyProtocol): ServicePort[] {
  const list = r.seq(node, path) ?? [];
  if (list.length === 0) r.fail(node, path, 'ports, when given, lists at least one port');
  const ports: ServicePort[] = [];
  list.forEach((n, i) => {
    const p = [...path, i];
    const f = r.map(n, p, PORT_FIELDS);
    if (!f) return;
    if (!f.has('port')) return r.fail(n, p, 'a port needs `port`');
    const port = r.int(f.get('port'), f.at('port'), 1, 65535);
    const targetPort = f.has('targetPort') ? r.int(f.get('targetPort'), f.at('targetPort'), 1, 65535) : port;
    let proto = protocol;
    if (f.has('protocol')) {
      const v = r.scalar(f.get('protocol'));
      if (PROTOCOLS.includes(v as TopologyProtocol)) proto = v as TopologyProtocol;
      else r.fail(f.get('protocol'), f.at('protocol'), `protocol must be one of ${PROTOCOLS.join(', ')}, found ${JSON.stringify(v ?? null)}`);
    }
    const name = f.has('name') ? r.string(f.get('name'), f.at('name'), DNS_LABEL) : proto;
    for (const [k, v] of [['port', port], ['targetPort', targetPort]] as const) {
      if (v !== undefined && RESERVED_PORTS.has(v)) r.fail(f.get(k) ?? f.get('port'), f.at(k), `port ${v} is reserved for the sidecar on every instance address`);
    }
    if (port === undefined || targetPort === undefined || !name) return;
    const dup = ports.find((x) => x.port === port || x.name === name || x.targetPort === targetPort);
    if (dup) return r.fail(n, p, `port ${name}/${port} repeats the name or number of port ${dup.name}/${dup.port}`);
    ports.push({ name, port, targetPort, protocol: proto });
  });
  return ports;
}

/** A copy of inherited behaviour whose calls are new objects (resolved per caller), still traced to their source. */
function cloneBehaviour(b: Behaviour, sources: CallSources): Behaviour {
  const cloneStep = <S extends Step>(s: S): S => {
    if (s.kind === 'call') {
      const call = { ...s.call };
      const src = sources.get(s.call);
      if (src) sources.set(call, src);
      return { ...s, call };
    }
    if (s.kind === 'concurrent') return { ...s, steps: s.steps.map(cloneStep) };
    return { ...s, latency: { ...s.latency } as Latency };
  };
  return { ...b, latency: b.latency && { ...b.latency }, script: b.script.map(cloneStep) };
}
