import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A Kubernetes API server for tests, answering from recorded responses: the discovery documents
// (/api/v1, /apis, /apis/<group>/<version>) and one cluster-wide List per resource
// (test/kube/fixtures/<cluster>/). Over HTTPS with its own CA and a bearer token, as a cluster is
// reached through a kubeconfig. It answers what the real server answers for what meshmedic
// sends: lists (cluster-wide and per namespace, with the List's resourceVersion), single
// objects, watches (chunked JSON lines from a resourceVersion, 410 Gone once it is compacted
// away, BOOKMARKs), server-side apply (application/apply-patch+yaml, field manager required,
// dryRun=All), JSON merge patch and delete, each bumping the resourceVersion and told to the
// watches. Statuses are the API's Status objects. Every request is logged for assertions.

const fixtures = fileURLToPath(new URL('../../../test/kube/fixtures/', import.meta.url));

type Json = Record<string, any>;

interface Resource {
  groupVersion: string; // v1, apps/v1, networking.istio.io/v1
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: Json;
}

export interface RecordedApiServer {
  url: string;
  token: string;
  /** A kubeconfig file for this server (context `recorded`). */
  kubeconfig: string;
  requests: LoggedRequest[];
  /** The objects of a resource (`pods`), as stored now. */
  objects(plural: string): Json[];
  /** Add or replace an object (a watch sees ADDED or MODIFIED). */
  put(plural: string, obj: Json): Json;
  remove(plural: string, namespace: string | undefined, name: string): void;
  /** End every open watch from the server side (as the API server does every few minutes). */
  endWatches(): void;
  /** Forget the event history: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void;
  /** Refuse requests whose path starts with this prefix with 403 (RBAC); the function returned lifts it. */
  forbid(prefix: string): () => void;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

export async function startRecordedApiServer(host: string, cluster = 'bookinfo'): Promise<RecordedApiServer> {
  const dir = join(fixtures, cluster);
  const discovery = new Map<string, Json>();
  const resources: Resource[] = [];
  for (const f of readdirSync(join(dir, 'discovery'))) {
    const doc = JSON.parse(readFileSync(join(dir, 'discovery', f), 'utf8'));
    if (doc.kind === 'APIGroupList') discovery.set('/apis', doc);
    else {
      discovery.set(doc.groupVersion === 'v1' ? '/api/v1' : `/apis/${doc.groupVersion}`, doc);
      for (const r of doc.resources) if (!r.name.includes('/')) resources.push({ groupVersion: doc.groupVersion, plural: r.name, kind: r.kind, namespaced: r.namespaced });
    }
  }
  discovery.set('/api', { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '172.18.0.2:6443' }] });
  // Stored objects, by plural; the resourceVersion counter starts above the recorded ones.
  const store = new Map<string, Json[]>();
  let rv = 0;
  for (const f of readdirSync(join(dir, 'lists'))) {
    const list = JSON.parse(readFileSync(join(dir, 'lists', f), 'utf8'));
    store.set(f.replace(/\.json$/, ''), list.items);
    rv = Math.max(rv, Number(list.metadata.resourceVersion));
  }
  const events: Array<{ rv: number; plural: string; type: string; object: Json }> = [];
  let oldestWatchable = rv;
  const watches = new Set<{ plural: string; namespace?: string; res: ServerResponse }>();
  const requests: LoggedRequest[] = [];
  const forbidden: string[] = [];
  const lastApplied = new Map<string, Json>();
  const token = 'recorded-token-7f2c';

  const { key, cert, cleanup } = selfSigned(host);
  const isCore = (r: Resource) => r.groupVersion === 'v1';
  const withType = (r: Resource, o: Json) => ({ ...o, apiVersion: o.apiVersion ?? r.groupVersion, kind: o.kind ?? r.kind });
  const stripType = (r: Resource, o: Json) => {
    // Items of a built-in kind's List carry no apiVersion/kind; CRD items do.
    if (!isCore(r) && r.groupVersion !== 'apps/v1') return o;
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };

  function emit(plural: string, type: string, object: Json): void {
    events.push({ rv, plural, type, object });
    const r = resources.find((x) => x.plural === plural)!;
    for (const w of watches) if (w.plural === plural && (!w.namespace || w.namespace === object.metadata?.namespace)) w.res.write(`${JSON.stringify({ type, object: withType(r, object) })}\n`);
  }

  function put(plural: string, obj: Json): Json {
    const items = store.get(plural) ?? [];
    store.set(plural, items);
    const i = items.findIndex((o) => o.metadata.name === obj.metadata.name && o.metadata.namespace === obj.metadata.namespace);
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
    if (i >= 0) items[i] = stored;
    else items.push(stored);
    emit(plural, i >= 0 ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  function remove(plural: string, namespace: string | undefined, name: string): Json | undefined {
    const items = store.get(plural) ?? [];
    const i = items.findIndex((o) => o.metadata.name === name && (o.metadata.namespace ?? undefined) === (namespace || undefined));
    if (i < 0) return undefined;
    const [gone] = items.splice(i, 1);
    const last = { ...gone, metadata: { ...gone.metadata, resourceVersion: String(++rv) } };
    emit(plural, 'DELETED', last);
    return last;
  }

  /** /api/v1/namespaces/ns/pods/name, /apis/g/v/plural, ... -> its parts, or undefined. */
  function route(path: string): { r: Resource; namespace?: string; name?: string; sub?: string } | undefined {
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const gv = m[1] ? `${m[1]}/${m[2]}` : 'v1';
    // /api/v1/namespaces/<name> is the Namespace object itself.
    if (gv === 'v1' && m[3] === undefined && m[4] === 'namespaces' && m[5]) return { r: resources.find((x) => x.plural === 'namespaces')!, name: decodeURIComponent(m[5]) };
    if (gv === 'v1' && !m[4] && m[3]) return { r: resources.find((x) => x.plural === 'namespaces')!, name: decodeURIComponent(m[3]) };
    const r = resources.find((x) => x.groupVersion === gv && x.plural === m[4]);
    if (!r) return undefined;
    return { r, namespace: m[3] && decodeURIComponent(m[3]), name: m[5] && decodeURIComponent(m[5]), sub: m[6] };
  }

  async function body(req: IncomingMessage): Promise<string> {
    let s = '';
    for await (const c of req) s += c;
    return s;
  }

  const send = (res: ServerResponse, code: number, obj: Json) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const query = Object.fromEntries(url.searchParams);
    const text = req.method === 'GET' ? '' : await body(req);
    const contentType = req.headers['content-type'];
    requests.push({ method: req.method ?? '', path: url.pathname, query, ...(contentType && { contentType }), ...(text && { body: JSON.parse(text) }) });
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (forbidden.some((p) => url.pathname.startsWith(p))) {
      return send(res, 403, status(403, 'Forbidden', `${url.pathname} is forbidden: User "system:serviceaccount:meshmedic:meshmedic" cannot ${req.method === 'GET' ? 'list' : 'patch'} resource at the cluster scope`));
    }
    const doc = discovery.get(url.pathname);
    if (doc && req.method === 'GET') return send(res, 200, doc);
    const rt = route(url.pathname);
    if (!rt) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const { r, namespace, name, sub } = rt;
    const items = () => (store.get(r.plural) ?? []).filter((o) => !namespace || o.metadata.namespace === namespace);
    const find = () => items().find((o) => o.metadata.name === name);
    const notFound = () => send(res, 404, status(404, 'NotFound', `${r.plural}${r.groupVersion.includes('/') ? `.${r.groupVersion.split('/')[0]}` : ''} "${name}" not found`));

    if (req.method === 'GET' && !name && query.watch === 'true') {
      const from = query.resourceVersion ? Number(query.resourceVersion) : rv;
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      if (from < oldestWatchable) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${oldestWatchable})`) })}\n`);
        return;
      }
      const w = { plural: r.plural, namespace, res };
      for (const e of events) if (e.rv > from && e.plural === r.plural && (!namespace || e.object.metadata?.namespace === namespace)) res.write(`${JSON.stringify({ type: e.type, object: withType(r, e.object) })}\n`);
      if (query.allowWatchBookmarks === 'true') res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: r.groupVersion, metadata: { resourceVersion: String(rv) } } })}\n`);
      watches.add(w);
      req.on('close', () => watches.delete(w));
      return;
    }
    if (req.method === 'GET' && !name) {
      return send(res, 200, { kind: `${r.kind}List`, apiVersion: r.groupVersion, metadata: { resourceVersion: String(rv) }, items: items().map((o) => stripType(r, o)) });
    }
    if (req.method === 'GET') return find() ? send(res, 200, withType(r, find()!)) : notFound();
    if (req.method === 'DELETE' && name) {
      const gone = find() && remove(r.plural, namespace, name);
      return gone ? send(res, 200, r.plural === 'pods' ? withType(r, gone) : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: r.plural } }) : notFound();
    }
    if (req.method === 'PATCH' && name) {
      const patch = JSON.parse(text || '{}');
      const current = find();
      if (sub === 'scale') {
        if (!current) return notFound();
        const next = { ...current, spec: { ...current.spec, replicas: patch.spec?.replicas ?? current.spec.replicas } };
        const stored = put(r.plural, next);
        return send(res, 200, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name, namespace, resourceVersion: stored.metadata.resourceVersion }, spec: { replicas: stored.spec.replicas }, status: { replicas: current.spec.replicas } });
      }
      if (contentType === 'application/apply-patch+yaml') {
        if (!query.fieldManager) return send(res, 422, status(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'));
        if (patch.metadata?.name !== name || (r.namespaced && patch.metadata?.namespace && patch.metadata.namespace !== namespace)) return send(res, 400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
        // Field ownership for one applier at a time, as server-side apply treats lists of CRDs
        // (atomic): fields this manager applied before and leaves out now are removed; what it
        // applies now is merged in (maps by key, lists and scalars replaced).
        const key = `${r.plural}/${namespace ?? ''}/${name}/${query.fieldManager}`;
        const base = current ?? { apiVersion: patch.apiVersion, kind: patch.kind, metadata: { name, namespace, uid: `applied-${name}`, creationTimestamp: new Date(0).toISOString(), generation: 0 } };
        const merged = deepMerge(dropOwned(structuredClone(base), lastApplied.get(key) ?? {}, patch), patch);
        const next = { ...merged, metadata: { ...merged.metadata, generation: (base.metadata.generation ?? 0) + 1, managedFields: [{ manager: query.fieldManager, operation: 'Apply', apiVersion: patch.apiVersion, time: new Date(0).toISOString(), fieldsType: 'FieldsV1', fieldsV1: {} }] } };
        if (query.dryRun !== 'All') lastApplied.set(key, patch);
        if (query.dryRun === 'All') return send(res, 200, withType(r, next));
        return send(res, current ? 200 : 201, withType(r, put(r.plural, next)));
      }
      if (contentType === 'application/merge-patch+json') {
        if (!current) return notFound();
        return send(res, 200, withType(r, put(r.plural, mergePatch(current, patch))));
      }
      return send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
  }

  const server = https.createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((e) => send(res, 500, status(500, 'InternalError', String(e))));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const url = `https://${host}:${(server.address() as AddressInfo).port}`;
  const kcDir = mkdtempSync(join(tmpdir(), 'mm-kube-'));
  const kubeconfig = join(kcDir, 'config');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: recorded',
    'clusters:', `- name: recorded`, '  cluster:', `    server: ${url}`, `    certificate-authority-data: ${Buffer.from(cert).toString('base64')}`,
    'users:', '- name: meshmedic', '  user:', `    token: ${token}`,
    'contexts:', '- name: recorded', '  context: {cluster: recorded, user: meshmedic, namespace: bookinfo}',
    '- name: elsewhere', '  context: {cluster: recorded, user: meshmedic}', '',
  ].join('\n'));
  return {
    url, token, kubeconfig, requests,
    objects: (plural) => store.get(plural) ?? [],
    put, remove: (p, ns, n) => void remove(p, ns, n),
    endWatches: () => {
      for (const w of watches) w.res.end();
      watches.clear();
    },
    compact: () => {
      events.length = 0;
      oldestWatchable = rv;
    },
    forbid: (prefix) => {
      forbidden.push(prefix);
      return () => void forbidden.splice(forbidden.indexOf(prefix), 1);
    },
    close: async () => {
      for (const w of watches) w.res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      cleanup();
      rmSync(kcDir, { recursive: true, force: true });
    },
  };
}

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes from `target` what `owned` holds and `next` does not (recursively through maps). */
function dropOwned(target: Json, owned: Json, next: Json): Json {
  for (const [k, v] of Object.entries(owned)) {
    if (!(k in next)) delete target[k];
    else if (isMap(v) && isMap(next[k]) && isMap(target[k])) dropOwned(target[k], v, next[k]);
  }
  return target;
}

function deepMerge(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

function mergePatch(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null && !Array.isArray(out[k])) out[k] = mergePatch(out[k], v);
    else out[k] = v;
  }
  return out;
}

/** A self-signed certificate for the server's IP (openssl), removed by cleanup(). */
function selfSigned(host: string): { key: string; cert: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mm-kube-tls-'));
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=kube-apiserver', '-addext', `subjectAltName=IP:${host}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const out = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return { ...out, cleanup: () => undefined };
}
