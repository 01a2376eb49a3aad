import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { HttpError, readJson, sendError, sendJson } from '../../controlplane/http-json.js';
import type { MeshProcesses } from './mesh-processes.js';
import type { Supervisor } from './supervisor.js';

// The mesh daemon's control API: what `meshmedic chaos` (and later recovery) asks of the
// process that runs every other one. HTTP/JSON on a unix socket in the state directory,
// `<state>/daemon.sock`, mode 0600 in a 0700 directory: whoever can open it owns the mesh
// anyway (the same user), and nothing else can. Errors are `{error: {code, message}}`.
//
//   GET  /v1/processes                      every supervised process: name, pid, state, restarts
//   POST /v1/processes/:name/signal         {"signal": "SIGSTOP"|"SIGCONT"|"SIGTERM"|"SIGKILL"}
//   POST /v1/processes/:name/hold           kill it and keep it down (no restart)
//   POST /v1/processes/:name/release        start a held process again
//   POST /v1/processes/:name/restart        stop it (SIGTERM) and start it again at once
//   GET  /v1/instances                      instances (topology and extra) with their processes
//   POST /v1/instances                      {"namespace", "workload", "version"?, "count"?}: start extra instances copied from a workload
//   DELETE /v1/instances/:namespace/:name   stop an extra instance
//   ...and the chaos routes (chaos/routes.ts).
//
// Process names contain a slash (`app/reviews-v2-0.bookinfo`): write it %2F-encoded in paths.

export const DAEMON_SOCKET = 'daemon.sock';

export function daemonSocketPath(stateRoot: string): string {
  return join(stateRoot, DAEMON_SOCKET);
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void;
export type Route = [method: string, pattern: RegExp, handler: Handler];

const SIGNALS = new Set(['SIGSTOP', 'SIGCONT', 'SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP']);

export function processRoutes(supervisor: Supervisor, processes: MeshProcesses): Route[] {
  const known = (name: string) => {
    if (!supervisor.list().some((p) => p.name === name)) throw new HttpError(404, 'E_NOT_FOUND', `no supervised process ${name}`);
  };
  return [
    ['GET', /^\/v1\/processes$/, (_q, res) => sendJson(res, 200, { processes: supervisor.list() })],
    ['POST', /^\/v1\/processes\/([^/]+)\/signal$/, async (req, res, [name]) => {
      known(name);
      const signal = String((await readJson(req))?.signal ?? '');
      if (!SIGNALS.has(signal)) throw new HttpError(400, 'E_BAD_REQUEST', `signal must be one of ${[...SIGNALS].join(', ')}`);
      sendJson(res, 200, { process: name, signal, sent: supervisor.kill(name, signal as NodeJS.Signals) });
    }],
    ['POST', /^\/v1\/processes\/([^/]+)\/hold$/, async (_q, res, [name]) => {
      known(name);
      await supervisor.hold(name);
      sendJson(res, 200, { process: name, state: 'held' });
    }],
    ['POST', /^\/v1\/processes\/([^/]+)\/release$/, (_q, res, [name]) => {
      known(name);
      sendJson(res, 200, { process: name, released: supervisor.release(name) });
    }],
    ['POST', /^\/v1\/processes\/([^/]+)\/restart$/, async (_q, res, [name]) => {
      known(name);
      await supervisor.hold(name, 'SIGTERM');
      supervisor.release(name);
      sendJson(res, 200, { process: name, pid: supervisor.pid(name) });
    }],
    ['GET', /^\/v1\/instances$/, (_q, res) => {
      const procs = new Map(supervisor.list().map((p) => [p.name, p]));
      sendJson(res, 200, {
        instances: processes.list().map((r) => ({
          id: r.id, namespace: r.instance.namespace, name: r.instance.name, workload: r.instance.workload, service: r.spec.service,
          version: r.spec.version, address: r.instance.address, extra: r.extra, app: procs.get(`app/${r.id}`), sidecar: procs.get(`sidecar/${r.id}`),
        })),
      });
    }],
    ['POST', /^\/v1\/instances$/, async (req, res) => {
      const body = (await readJson(req)) ?? {};
      const base = processes.list().find((r) => !r.extra && r.instance.namespace === body.namespace && r.instance.workload === body.workload);
      if (!base) throw new HttpError(404, 'E_NOT_FOUND', `no workload ${body.workload} in namespace ${body.namespace} in the topology`);
      const version = typeof body.version === 'string' ? body.version : base.spec.version;
      const count = Number(body.count ?? 1);
      if (!(Number.isInteger(count) && count >= 1 && count <= 20)) throw new HttpError(400, 'E_BAD_REQUEST', 'count must be within 1..20');
      const taken = new Set(processes.list().map((r) => r.instance.name));
      const started = [];
      for (let i = 0; started.length < count; i++) {
        if (taken.has(`${base.spec.service}-${version}-${i}`)) continue;
        started.push((await processes.addInstance({ base, version, index: i })).id);
      }
      sendJson(res, 200, { started });
    }],
    ['DELETE', /^\/v1\/instances\/([^/]+)\/([^/]+)$/, async (_q, res, [ns, name]) => {
      const r = processes.get(`${name}.${ns}`);
      if (!r) throw new HttpError(404, 'E_NOT_FOUND', `no instance ${ns}/${name}`);
      if (!r.extra) throw new HttpError(400, 'E_BAD_REQUEST', `${ns}/${name} belongs to the topology; only extra instances can be removed`);
      await processes.removeInstance(r.id);
      sendJson(res, 200, { removed: r.id });
    }],
  ];
}

export class DaemonApi {
  private readonly server: Server;

  constructor(private readonly routes: Route[]) {
    this.server = createServer((req, res) => void this.handle(req, res).catch((e) => sendError(res, e)));
  }

  async listen(socketPath: string): Promise<void> {
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => resolve());
    });
    chmodSync(socketPath, 0o600);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://daemon');
    const matching = this.routes.filter(([, p]) => p.test(url.pathname));
    if (matching.length === 0) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${url.pathname}`);
    const route = matching.find(([m]) => m === req.method);
    if (!route) throw new HttpError(405, 'E_METHOD', `${req.method} is not allowed on ${url.pathname}; use ${matching.map(([m]) => m).join(' or ')}`);
    const params = route[1].exec(url.pathname)!.slice(1).map(decodeURIComponent);
    await route[2](req, res, params, url);
  }
}
