import { MeshmedicError } from '../api/errors.js';
import { splitApiVersion } from '../api/kinds.js';
import { formatPath, lineOf, type FieldPath, type Resource } from '../api/resource.js';

// Structural validation: does a resource have the shape its published schema describes (field
// types, enums, required fields, mutually exclusive fields)? Istio's CRD schemas come from
// `@kubernetes-models/istio`, Kubernetes kinds from `kubernetes-models`, Gateway API kinds from
// `@kubernetes-models/gateway-api`; each model class carries a compiled (ajv) validator.
//
// What these schemas do NOT check: unknown fields (no `additionalProperties: false`, so a typo'd
// field name passes, as `istioctl analyze` also lets it pass), and the CRDs' CEL rules
// (`x-kubernetes-validations`: durations, port ranges, ...). Semantic rules are the schema
// analyzers' job (src/config/analysis/analyzers/schema/).
//
// The model modules are big (all of them take ~200 ms to load), so they are loaded lazily, per
// (group, version, kind), by `loadStructuralSchemas`; `validateStructure` itself is synchronous.

/** A model class: its prototype's `validate()` checks `this` and throws an ajv ValidationError. */
interface ModelClass {
  prototype: { validate(this: unknown): void };
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}

// Which published models exist, as (package, group, versions, kinds). The key of a model is
// `group/version/kind` ('' group for the Kubernetes core group).
const ISTIO = '@kubernetes-models/istio';
const K8S = 'kubernetes-models';
const GATEWAY_API = '@kubernetes-models/gateway-api';
const GW = 'gateway.networking.k8s.io';
const NETWORKING_KINDS = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry', 'WorkloadGroup', 'Sidecar'];
const SECURITY_KINDS = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'];

const MODEL_TABLE: ReadonlyArray<[pkg: string, group: string, versions: string[], kinds: string[]]> = [
  [ISTIO, 'networking.istio.io', ['v1', 'v1beta1', 'v1alpha3'], NETWORKING_KINDS],
  [ISTIO, 'networking.istio.io', ['v1alpha3'], ['EnvoyFilter']],
  [ISTIO, 'networking.istio.io', ['v1beta1'], ['ProxyConfig']],
  [ISTIO, 'security.istio.io', ['v1', 'v1beta1'], SECURITY_KINDS],
  [ISTIO, 'telemetry.istio.io', ['v1', 'v1alpha1'], ['Telemetry']],
  [ISTIO, 'extensions.istio.io', ['v1alpha1'], ['WasmPlugin']],
  [K8S, '', ['v1'], ['Namespace', 'Service', 'Pod', 'Node', 'Secret', 'ConfigMap', 'Endpoints']],
  [K8S, 'apps', ['v1'], ['Deployment']],
  [K8S, 'admissionregistration.k8s.io', ['v1', 'v1beta1'], ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']],
  [K8S, 'apiextensions.k8s.io', ['v1', 'v1beta1'], ['CustomResourceDefinition']],
  [GATEWAY_API, GW, ['v1', 'v1beta1'], ['Gateway', 'GatewayClass', 'HTTPRoute', 'ReferenceGrant']],
  [GATEWAY_API, GW, ['v1', 'v1alpha2'], ['GRPCRoute']],
  [GATEWAY_API, GW, ['v1alpha2'], ['TCPRoute', 'UDPRoute', 'ReferenceGrant']],
  [GATEWAY_API, GW, ['v1', 'v1alpha2', 'v1alpha3'], ['TLSRoute']],
  [GATEWAY_API, GW, ['v1', 'v1alpha3'], ['BackendTLSPolicy']],
];

/** Module specifier of each model, by key. */
const MODULES = new Map<string, { specifier: string; exportName: string }>();
for (const [pkg, group, versions, kinds] of MODEL_TABLE) {
  for (const version of versions) {
    for (const kind of kinds) {
      const dir = group ? `${group}/${version}` : version;
      MODULES.set(`${group}/${version}/${kind}`, { specifier: `${pkg}/${dir}/${kind}`, exportName: kind });
    }
  }
}

const loaded = new Map<string, ModelClass>();

function modelKey(apiVersion: string, kind: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return `${group}/${version}/${kind}`;
}

/** True when a published schema exists for the resource's (group, version, kind). */
export function hasStructuralSchema(r: Resource): boolean {
  return MODULES.has(modelKey(r.apiVersion, r.kind));
}

/** Loads the schema modules these resources need (each module once); call before validateStructure. */
export async function loadStructuralSchemas(resources: Iterable<Resource>): Promise<void> {
  const keys = new Set<string>();
  for (const r of resources) {
    const key = modelKey(r.apiVersion, r.kind);
    if (MODULES.has(key) && !loaded.has(key)) keys.add(key);
  }
  await Promise.all([...keys].map(loadModel));
}

/** Loads every schema module (for long-running processes that validate whatever comes). */
export async function loadAllStructuralSchemas(): Promise<void> {
  await Promise.all([...MODULES.keys()].filter((k) => !loaded.has(k)).map(loadModel));
}

async function loadModel(key: string): Promise<void> {
  const mod = MODULES.get(key)!;
  const ns = (await import(mod.specifier)) as Record<string, ModelClass>;
  const cls = ns[mod.exportName];
  if (!cls?.prototype?.validate) throw new Error(`schema module ${mod.specifier} has no model ${mod.exportName}`);
  loaded.set(key, cls);
}

/**
 * Problems with the shape of a resource: one E_SCHEMA error per problem, at the line of the
 * offending field. Resources without a published schema (synthetic mesh objects, unknown
 * versions) have none. The schema must have been loaded with loadStructuralSchemas.
 */
export function validateStructure(r: Resource): MeshmedicError[] {
  const key = modelKey(r.apiVersion, r.kind);
  if (!MODULES.has(key)) return [];
  const model = loaded.get(key);
  if (!model) throw new Error(`structural schema for ${key} is not loaded; await loadStructuralSchemas() first`);
  try {
    // Validate the object as written, without copying it into a model instance.
    model.prototype.validate.call(r.raw);
    return [];
  } catch (e) {
    const errors = (e as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw e;
    return toMeshmedicErrors(r, errors);
  }
}

/** Loads what is needed, then validates every resource. */
export async function validateStructureAll(resources: readonly Resource[]): Promise<MeshmedicError[]> {
  await loadStructuralSchemas(resources);
  return resources.flatMap(validateStructure);
}

// ----------------------------------------------------------------------------- error messages

/** `/spec/http/0/timeout` -> ['spec', 'http', 0, 'timeout'], numbers only where the data has a list. */
function toFieldPath(raw: unknown, pointer: string): FieldPath {
  const path: Array<string | number> = [];
  let cur: any = raw;
  for (const part of pointer.split('/').slice(1)) {
    const seg = part.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(cur) && /^\d+$/.test(seg) ? Number(seg) : undefined;
    path.push(index ?? seg);
    cur = cur == null ? undefined : cur[index ?? seg];
  }
  return path;
}

function valueAt(raw: unknown, path: FieldPath): unknown {
  let cur: any = raw;
  for (const seg of path) cur = cur == null ? undefined : cur[seg];
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : 'object';
}

function describeType(t: unknown): string {
  return Array.isArray(t) ? t.join(' or ') : String(t);
}

/**
 * Turns ajv's errors into one message per problem. A oneOf/anyOf failure also reports every
 * failed branch; those are folded into one message for the field.
 */
function toMeshmedicErrors(r: Resource, errors: AjvError[]): MeshmedicError[] {
  const byPointer = new Map<string, AjvError[]>();
  for (const e of errors) {
    let l = byPointer.get(e.instancePath);
    if (!l) byPointer.set(e.instancePath, (l = []));
    l.push(e);
  }
  const out: MeshmedicError[] = [];
  const seen = new Set<string>();
  const emit = (path: FieldPath, message: string) => {
    const fieldPath = formatPath(path);
    const key = `${fieldPath}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(new MeshmedicError('E_SCHEMA', message, { file: r.origin.file, line: lineOf(r, path) }, fieldPath));
  };

  for (const [pointer, group] of byPointer) {
    // The API server ignores `status` written by users (it belongs to the controller), and
    // drops `field: null` as if unset; the compiled schemas would still complain about both.
    if (pointer === '/status' || pointer.startsWith('/status/')) continue;
    const path = toFieldPath(r.raw, pointer);
    const value = valueAt(r.raw, path);
    if (value === null) continue;
    const alternative = group.find((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
    if (alternative) {
      const passing = alternative.params.passingSchemas;
      const types = group.filter((e) => e.keyword === 'type').map((e) => describeType(e.params.type));
      if (Array.isArray(passing) && passing.length > 1 && typeName(value) === 'object') {
        // Several branches matched: mutually exclusive fields are set together.
        emit(path, `sets more than one of a set of mutually exclusive fields (it has: ${Object.keys(value as object).join(', ')})`);
      } else if (types.length) {
        emit(path, `must be ${[...new Set(types)].join(' or ')}, not ${typeName(value)}`);
      } else {
        emit(path, 'does not match any of the allowed forms');
      }
      // Errors of the individual branches are explained by the message above.
      for (const e of group) if (!['oneOf', 'anyOf', 'not', 'required', 'type'].includes(e.keyword)) emit(path, describeError(e, value));
      continue;
    }
    for (const e of group) {
      if (e.keyword === 'required') emit([...path, String(e.params.missingProperty)], 'required field is missing');
      else emit(path, describeError(e, value));
    }
  }
  return out;
}

function describeError(e: AjvError, value: unknown): string {
  switch (e.keyword) {
    case 'type':
      return `must be ${describeType(e.params.type)}, not ${typeName(value)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}`;
    case 'format':
      return `${JSON.stringify(value)} is not a valid ${e.params.format}`;
    case 'pattern':
      return `${JSON.stringify(value)} does not match the pattern ${e.params.pattern}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${JSON.stringify(value)} ${e.message ?? 'is out of range'}`;
    case 'minLength':
      return `must be at least ${e.params.limit} characters long`;
    case 'maxLength':
      return `must be at most ${e.params.limit} characters long`;
    case 'minItems':
      return `must have at least ${e.params.limit} items`;
    case 'maxItems':
      return `must have at most ${e.params.limit} items`;
    case 'minProperties':
      return `must have at least ${e.params.limit} entries`;
    case 'maxProperties':
      return `must have at most ${e.params.limit} entries`;
    case 'not':
      return 'sets fields that may not be used together';
    default:
      return e.message ?? `fails the ${e.keyword} check`;
  }
}
