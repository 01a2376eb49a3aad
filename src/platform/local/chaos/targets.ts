import { ChaosError } from './errors.js';
import { TARGET_KINDS, type EdgeRef, type FaultType, type TargetKind, type TargetRef } from './types.js';

// `--target` as people write it, resolved against what runs: `reviews` (a service),
// `reviews-v2` (a workload), `reviews-v2-0` (an instance), `api.payments.example` (an external
// host), `productpage->reviews` (an edge), or any of them with an explicit kind
// (`service/reviews`, `workload/reviews-v2`, `instance/reviews-v2-0`, `host/api.example.com`).
// A bare name is looked up among the kinds the fault type takes; the namespace comes from -n, or
// from the name when it is unique in the mesh.

export interface MeshInstanceView {
  id: string; // node id `<name>.<namespace>`
  name: string;
  namespace: string;
  workload: string;
  service: string; // the `app` label
  version: string;
}

export interface MeshView {
  instances: MeshInstanceView[];
  externalHosts: string[];
}

const KIND_ALIASES: Record<string, TargetKind> = {
  service: 'service', svc: 'service',
  workload: 'workload', deployment: 'workload', version: 'workload',
  instance: 'instance', pod: 'instance',
  host: 'external', external: 'external', serviceentry: 'external', se: 'external',
};

const fail = (message: string): never => {
  throw new ChaosError('E_CHAOS_TARGET', message);
};

export function resolveTarget(type: FaultType, text: string, namespace: string | undefined, mesh: MeshView): TargetRef | EdgeRef {
  const allowed = TARGET_KINDS[type];
  const arrow = text.indexOf('->');
  if (arrow >= 0) {
    if (!allowed.includes('edge')) fail(`${type} does not take an edge (it takes ${allowed.join(', ')})`);
    const source = resolveRef(text.slice(0, arrow).trim(), namespace, mesh, ['service', 'workload'], 'the source of an edge');
    const destination = resolveRef(text.slice(arrow + 2).trim(), namespace, mesh, ['service'], 'the destination of an edge');
    return { kind: 'edge', source, destination };
  }
  return resolveRef(text, namespace, mesh, allowed.filter((k): k is TargetRef['kind'] => k !== 'edge' && k !== 'config'), `the target of ${type}`);
}

function resolveRef(text: string, namespace: string | undefined, mesh: MeshView, kinds: readonly TargetRef['kind'][], what: string): TargetRef {
  let name = text;
  let only: TargetRef['kind'] | undefined;
  const slash = text.indexOf('/');
  if (slash > 0) {
    const k = KIND_ALIASES[text.slice(0, slash).toLowerCase()];
    if (!k || k === 'edge' || k === 'config') fail(`unknown target kind "${text.slice(0, slash)}" (service/, workload/, instance/, host/)`);
    if (!kinds.includes(k as TargetRef['kind'])) fail(`${what} cannot be a ${k} (it takes ${kinds.join(' or ')})`);
    only = k as TargetRef['kind'];
    name = text.slice(slash + 1);
  }
  if (!name) fail(`${what} has no name`);
  const found = (only ? [only] : kinds).flatMap((k) => lookup(k, name, namespace, mesh));
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    fail(`"${name}" is ambiguous: ${found.map((f) => `${f.kind} ${f.name}${f.namespace ? ` in ${f.namespace}` : ''}`).join(', ')}; write kind/name${namespace ? '' : ' or give -n'}`);
  }
  // Not found among the kinds allowed: say what it is, if it is something else.
  const other = (['service', 'workload', 'instance', 'external'] as const).filter((k) => !kinds.includes(k)).flatMap((k) => lookup(k, name, namespace, mesh));
  if (other.length) fail(`${name} is ${article(other[0].kind)}; ${what} must be ${kinds.map(article).join(' or ')}`);
  fail(`no ${kinds.join(' or ')} named "${name}"${namespace ? ` in namespace ${namespace}` : ''} in the running mesh`);
  return undefined as never;
}

const article = (k: TargetRef['kind']) => (k === 'instance' ? 'an instance' : k === 'external' ? 'an external host' : `a ${k}`);

function lookup(kind: TargetRef['kind'], name: string, namespace: string | undefined, mesh: MeshView): TargetRef[] {
  if (kind === 'external') return mesh.externalHosts.includes(name.toLowerCase()) ? [{ kind, namespace: '', name: name.toLowerCase() }] : [];
  const field = kind === 'service' ? 'service' : kind === 'workload' ? 'workload' : 'name';
  const namespaces = new Set(mesh.instances.filter((i) => i[field] === name && (namespace === undefined || i.namespace === namespace)).map((i) => i.namespace));
  return [...namespaces].sort().map((ns) => ({ kind, namespace: ns, name }));
}

/** The instances a target covers (a service: all of its instances; a workload: its instances). */
export function instancesOf(ref: TargetRef, mesh: MeshView): MeshInstanceView[] {
  const field = ref.kind === 'service' ? 'service' : ref.kind === 'workload' ? 'workload' : ref.kind === 'instance' ? 'name' : undefined;
  if (!field) return [];
  return mesh.instances.filter((i) => i.namespace === ref.namespace && i[field] === ref.name);
}

/** Every way a caller in `callerNamespace` may name a service in its requests (what the network fault matches). */
export function hostNamesOf(service: TargetRef, callerNamespace: string): string[] {
  const { name, namespace } = service;
  const names = [`${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
  return callerNamespace === namespace ? [name, ...names] : names;
}

export function describeRef(ref: TargetRef): string {
  return ref.kind === 'external' ? `external host ${ref.name}` : `${ref.kind} ${ref.name}.${ref.namespace}`;
}
