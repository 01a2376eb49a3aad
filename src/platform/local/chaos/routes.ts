import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson } from '../../../controlplane/http-json.js';
import type { Route } from '../daemon-api.js';
import type { ChaosEngine } from './engine.js';
import { ChaosError } from './errors.js';
import { checkRequest } from './params.js';
import type { StandIns } from './stand-ins.js';

// The chaos part of the mesh daemon's control API (daemon-api.ts):
//
//   POST   /v1/chaos/injections          an InjectRequest (chaos/types.ts) -> 201 {injection}
//   GET    /v1/chaos/injections[?active=true]   newest first, with their ground truth
//   GET    /v1/chaos/injections/:id
//   DELETE /v1/chaos/injections/:id      clear one (reverts exactly what it did)
//   DELETE /v1/chaos/injections          clear every active one
//   GET    /v1/stand-ins                 stand-ins of external hosts
//   POST   /v1/stand-ins                 {"host", "port"?, "namespace"?}: start one and apply its ServiceEntry
//   DELETE /v1/stand-ins/:host

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

/** ChaosErrors become the API's `{error: {code, message}}` with their status. */
function guarded(h: Handler): Handler {
  return async (req, res, params, url) => {
    try {
      await h(req, res, params, url);
    } catch (e) {
      if (e instanceof ChaosError) throw new HttpError(e.httpStatus, e.code, e.message);
      throw e;
    }
  };
}

export function chaosRoutes(engine: ChaosEngine, standIns: StandIns): Route[] {
  return [
    ['POST', /^\/v1\/chaos\/injections$/, guarded(async (req, res) => sendJson(res, 201, { injection: await engine.inject(checkRequest(await readJson(req))) }))],
    ['GET', /^\/v1\/chaos\/injections$/, guarded(async (_q, res, _p, url) => sendJson(res, 200, { injections: engine.list(url.searchParams.get('active') === 'true') }))],
    ['GET', /^\/v1\/chaos\/injections\/([^/]+)$/, guarded(async (_q, res, [id]) => {
      const inj = engine.list().find((i) => i.id === id);
      if (!inj) throw new ChaosError('E_CHAOS_NOT_FOUND', `no injection ${id}`);
      sendJson(res, 200, { injection: inj });
    })],
    ['DELETE', /^\/v1\/chaos\/injections\/([^/]+)$/, guarded(async (_q, res, [id]) => sendJson(res, 200, { injection: await engine.clear(id, 'cleared', 'cleared by request') }))],
    ['DELETE', /^\/v1\/chaos\/injections$/, guarded(async (_q, res) => sendJson(res, 200, { injections: await engine.clearAll('cleared by request (all)') }))],
    ['GET', /^\/v1\/stand-ins$/, guarded(async (_q, res) => sendJson(res, 200, { standIns: standIns.list() }))],
    ['POST', /^\/v1\/stand-ins$/, guarded(async (req, res) => {
      const body = (await readJson(req)) ?? {};
      if (typeof body.host !== 'string') throw new ChaosError('E_CHAOS_PARAM', 'host is required');
      const port = body.port === undefined ? 80 : Number(body.port);
      if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new ChaosError('E_CHAOS_PARAM', `port must be within 1..65535, got ${body.port}`);
      sendJson(res, 201, { standIn: await standIns.add(body.host, port, typeof body.namespace === 'string' && body.namespace ? body.namespace : 'default') });
    })],
    ['DELETE', /^\/v1\/stand-ins\/([^/]+)$/, guarded(async (_q, res, [host]) => {
      await standIns.remove(host);
      sendJson(res, 200, { removed: host });
    })],
  ];
}
