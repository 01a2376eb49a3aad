import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxySnapshot, WorkloadInstance } from '../api/snapshot.js';
import { namespaceOf, type Resource } from '../api/resource.js';
import type { ConfigStore } from '../config/store.js';
import { applyText, deleteText } from './apply.js';
import { HttpError, readBody, readJson, sendJson } from './http-json.js';
import { kindByName } from './kind-names.js';
import { nodeIdOf, RegistryError, type ServiceRegistry } from './registry.js';
import type { XdsServer } from './xds-server.js';
import { traceRoutes } from './traces-api.js';
import type { TraceService } from './traces.js';
import { metricsRoutes } from '../telemetry/prometheus/query-api.js';
import type { EmbeddedMetrics } from '../telemetry/scrape/embedded-metrics.js';
import { graphRoutes } from './graph-api.js';
import type { DiagnosisService } from '../diagnosis/diagnosis-service.js';
import { diagnosisRoutes } from '../diagnosis/incidents/routes.js';
import type { RecoveryService } from '../recovery/recovery-service.js';
import { recoveryRoutes } from '../recovery/routes.js';

// The control plane's HTTP API, used by the CLI (and later the dashboard). JSON in and out;
// errors are `{error: {code, message, details?}}` with a proper status code.
//
//   POST /api/v1/apply?namespace=&file=     YAML/JSON text; all or nothing
//   POST /api/v1/delete?namespace=&file=    YAML/JSON text naming what to delete
//   GET  /api/v1/resources?kind=&namespace=&name=
//   GET  /api/v1/proxy-status
//   GET  /api/v1/proxies/:id/config[?view=current]   last sent (default) or current snapshot
//   GET  /api/v1/registry
//   GET  /api/v1/status
//   POST /api/v1/instances                   register a WorkloadInstance (`meshmedic register`)
//   DELETE /api/v1/instances/:namespace/:name
//   POST /api/v1/instances/:namespace/:name/health   {"healthy": boolean}
//   POST /api/v1/spans, GET /api/v1/traces[/:traceId]   tracing (traces-api.ts)
//   /api/v1/query, /query_range, /series, /label/:name/values, /targets   Prometheus's query API on the embedded store (telemetry/prometheus/query-api.ts)
//   GET /api/v1/graph, GET /api/v1/stat   the service graph and per-service/workload figures (graph-api.ts)
//   GET /api/v1/incidents[/:id], GET /api/v1/diagnosis, GET|PUT /api/v1/diagnosis/slo   diagnosis (src/diagnosis/incidents/routes.ts)
//   /api/v1/recovery/plan, /run, /actions[/:id[/approve|/rollback]], /status   recovery (src/recovery/routes.ts); GET /api/v1/incidents/:id adds the incident's actions

export interface ApiDeps {
  store: ConfigStore;
  registry: ServiceRegistry;
  xds: XdsServer;
  currentSnapshot(nodeId: string): ProxySnapshot | undefined;
  status(): Record<string, unknown>;
  /** Spans in, traces out (traces-api.ts). */
  traces?: TraceService;
  /** The embedded metrics store and scraper (PromQL queries). */
  metrics?: EmbeddedMetrics;
  /** Incidents and on-demand root-cause ranking. */
  diagnosis?: DiagnosisService;
  /** Recovery plans, actions and their audit log. */
  recovery?: RecoveryService;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;

export function createApi(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const routes: Array<[method: string, pattern: RegExp, handler: Handler]> = [
    ['POST', /^\/api\/v1\/apply$/, (req, res, url) => apply(deps, req, res, url)],
    ['POST', /^\/api\/v1\/delete$/, (req, res, url) => remove(deps, req, res, url)],
    ['GET', /^\/api\/v1\/resources$/, (_req, res, url) => sendJson(res, 200, { items: listResources(deps.store, url) })],
    ['GET', /^\/api\/v1\/proxy-status$/, (_req, res) => sendJson(res, 200, { proxies: proxyStatus(deps) })],
    ['GET', /^\/api\/v1\/proxies\/([^/]+)\/config$/, (_req, res, url, [id]) => sendJson(res, 200, proxyConfig(deps, id, url))],
    ['GET', /^\/api\/v1\/registry$/, (_req, res) => sendJson(res, 200, { instances: deps.registry.instances(), services: deps.registry.services() })],
    ['GET', /^\/api\/v1\/status$/, (_req, res) => sendJson(res, 200, deps.status())],
    ['POST', /^\/api\/v1\/instances$/, (req, res) => register(deps, req, res)],
    ['DELETE', /^\/api\/v1\/instances\/([^/]+)\/([^/]+)$/, (_req, res, _url, [ns, name]) => deregister(deps, res, ns, name)],
    ['POST', /^\/api\/v1\/instances\/([^/]+)\/([^/]+)\/health$/, (req, res, _url, [ns, name]) => health(deps, req, res, ns, name)],
    ...(deps.traces ? traceRoutes(deps.traces) : []),
    ...(deps.metrics ? metricsRoutes({ source: deps.metrics.source, now: () => deps.metrics!.clock.now(), targets: () => deps.metrics!.scraper.targets() }) : []),
    ...(deps.metrics ? graphRoutes({ source: deps.metrics.source, now: () => deps.metrics!.clock.now() }) : []),
    // Before diagnosis's: its GET /incidents/:id answers with the incident's actions too.
    ...(deps.recovery ? recoveryRoutes(deps.recovery, deps.diagnosis) : []),
    ...(deps.diagnosis ? diagnosisRoutes(deps.diagnosis) : []),
  ];
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/api/')) return false;
    const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
    if (matching.length === 0) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${url.pathname}`);
    const route = matching.find(([method]) => method === req.method);
    if (!route) throw new HttpError(405, 'E_METHOD', `${req.method} is not allowed on ${url.pathname}; use ${matching.map(([m]) => m).join(' or ')}`);
    const params = route[1].exec(url.pathname)!.slice(1).map(decodeURIComponent);
    await route[2](req, res, url, params);
    return true;
  };
}

/**
 * The body is either YAML/JSON text (one file, named by `?file=`) or, with
 * `content-type: application/json`, `{"documents": [{"file", "text"}, ...]}`: several files
 * applied together, each resource keeping its own file and line.
 */
function textInput(body: string, req: IncomingMessage, url: URL) {
  const namespace = url.searchParams.get('namespace') || 'default';
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new HttpError(400, 'E_BAD_REQUEST', `body is not JSON: ${(e as Error).message}`);
    }
    const docs = (parsed as { documents?: unknown }).documents;
    if (Array.isArray(docs) && docs.every((d) => typeof d?.text === 'string' && typeof d?.file === 'string')) {
      return { documents: docs as Array<{ file: string; text: string }>, namespace };
    }
  }
  return { documents: [{ text: body, file: url.searchParams.get('file') || '-' }], namespace };
}

async function apply(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const outcome = await applyText(deps.store, textInput(await readBody(req), req, url));
  if (!outcome.ok) return rejected(res, outcome.errors);
  const { ok: _ok, ...body } = outcome;
  sendJson(res, 200, body);
}

async function remove(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const outcome = deleteText(deps.store, textInput(await readBody(req), req, url));
  if (!outcome.ok) return rejected(res, outcome.errors);
  sendJson(res, 200, { version: outcome.version, deleted: outcome.deleted });
}

/** 400 with every problem: `errors` for readers of the list, `error` for the CLI's common error path. */
function rejected(res: ServerResponse, errors: Array<{ code: string; message: string; reference: string }>): void {
  const first = errors[0];
  const summary = `${errors.length} error(s); nothing was applied. First: ${first.reference ? `${first.reference}: ` : ''}${first.message} [${first.code}]`;
  sendJson(res, 400, { error: { code: 'E_INVALID_CONFIG', message: summary, details: errors }, errors });
}

function listResources(store: ConfigStore, url: URL): unknown[] {
  const kindName = url.searchParams.get('kind');
  const ns = url.searchParams.get('namespace') || undefined;
  const name = url.searchParams.get('name') || undefined;
  let resources: Resource[];
  if (kindName) {
    const info = kindByName(kindName);
    if (!info) throw new HttpError(400, 'E_UNKNOWN_KIND', `unknown kind "${kindName}"`);
    resources = store.list(info.id, info.clusterScoped ? undefined : ns);
  } else resources = store.all().filter((r) => ns === undefined || namespaceOf(r) === ns);
  if (name) resources = resources.filter((r) => r.metadata.name === name);
  if (name && resources.length === 0) {
    throw new HttpError(404, 'E_NOT_FOUND', `${kindName ?? 'resource'} "${name}" not found${ns ? ` in namespace ${ns}` : ''}`);
  }
  return resources.map((r) => ({
    kind: r.info.kind,
    apiVersion: r.apiVersion,
    namespace: namespaceOf(r),
    name: r.metadata.name,
    origin: { file: r.origin.file, line: r.origin.line },
    raw: r.raw,
  }));
}

function proxyStatus(deps: ApiDeps): unknown[] {
  const instances = new Map(deps.registry.instances().map((i) => [nodeIdOf(i), i]));
  return deps.xds.states(instances.keys()).map((s) => {
    const inst = instances.get(s.node);
    return {
      ...s,
      ...(inst && { instance: inst.name, namespace: inst.namespace, workload: inst.workload, address: inst.address }),
      current: deps.currentSnapshot(s.node)?.version,
    };
  });
}

function proxyConfig(deps: ApiDeps, id: string, url: URL): ProxySnapshot {
  const current = url.searchParams.get('view') === 'current';
  const snapshot = current ? deps.currentSnapshot(id) : deps.xds.lastSent(id);
  if (!snapshot) {
    throw new HttpError(404, 'E_NOT_FOUND', current ? `no proxy ${id} in the registry` : `nothing was sent to proxy ${id} yet (add ?view=current for what it would get)`);
  }
  return snapshot;
}

async function register(deps: ApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const inst = (await readJson(req)) as WorkloadInstance;
  try {
    deps.registry.upsert({ ...inst, healthy: inst.healthy ?? true, source: inst.source ?? 'registered' });
  } catch (e) {
    if (e instanceof RegistryError) throw new HttpError(400, e.code, e.message);
    throw e;
  }
  sendJson(res, 200, { node: nodeIdOf(inst) });
}

function deregister(deps: ApiDeps, res: ServerResponse, ns: string, name: string): void {
  if (!deps.registry.remove(ns, name)) throw new HttpError(404, 'E_NOT_FOUND', `no registered instance ${ns}/${name}`);
  sendJson(res, 200, { removed: `${ns}/${name}` });
}

async function health(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, ns: string, name: string): Promise<void> {
  const body = await readJson(req);
  if (typeof body?.healthy !== 'boolean') throw new HttpError(400, 'E_BAD_REQUEST', 'body must be {"healthy": true|false}');
  if (!deps.registry.setHealthy(ns, name, body.healthy)) throw new HttpError(404, 'E_NOT_FOUND', `no registered instance ${ns}/${name}`);
  sendJson(res, 200, { instance: `${ns}/${name}`, healthy: body.healthy });
}
