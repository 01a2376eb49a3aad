import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson } from '../controlplane/http-json.js';
import type { DiagnosisService } from '../diagnosis/diagnosis-service.js';
import { httpStatusOf, RecoveryError } from './errors.js';
import type { RecoveryService } from './recovery-service.js';

// Recovery's endpoints on the control plane's API (registered in api.ts, token-protected like
// the rest):
//
//   GET  /api/v1/recovery/plan?namespace=&service=&incident=   {incident, actions: PlannedAction[], notes}; nothing recorded
//   POST /api/v1/recovery/run {namespace?, service?, incident?, dryRun?}   records the plan and runs it in the
//        background; answers once its first action is applied: {incident, actions: RecoveryAction[], notes}
//        (dryRun: the plan, as GET /plan)
//   GET  /api/v1/recovery/actions?incident=ID   RecoveryAction[] (without incident: the newest 100)
//   GET  /api/v1/recovery/actions/:id
//   POST /api/v1/recovery/actions/:id/approve   runs a proposed action (manual mode)
//   POST /api/v1/recovery/actions/:id/rollback  undoes an applied action
//   GET  /api/v1/recovery/status
//   GET  /api/v1/incidents/:id                  the incident, with `actions: RecoveryAction[]` (replaces diagnosis's route)

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type RecoveryRoute = [method: string, pattern: RegExp, handler: Handler];

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function recoveryRoutes(r: RecoveryService, diagnosis: DiagnosisService | undefined): RecoveryRoute[] {
  return [
    ['GET', /^\/api\/v1\/recovery\/plan$/, (_q, res, url) => guarded(res, () => sendJson(res, 200, r.plan(request(Object.fromEntries(url.searchParams)))))],
    ['POST', /^\/api\/v1\/recovery\/run$/, async (req, res) => {
      const body = (await readJson(req)) ?? {};
      const q = request(body);
      await guarded(res, async () => sendJson(res, body.dryRun === true ? 200 : 202, body.dryRun === true ? r.plan(q) : await r.run(q)));
    }],
    ['GET', /^\/api\/v1\/recovery\/actions$/, (_q, res, url) => sendJson(res, 200, r.actions(url.searchParams.get('incident') || undefined))],
    ['GET', /^\/api\/v1\/recovery\/actions\/([^/]+)$/, (_q, res, _u, [id]) => guarded(res, () => sendJson(res, 200, r.action(id)))],
    ['POST', /^\/api\/v1\/recovery\/actions\/([^/]+)\/approve$/, (_q, res, _u, [id]) => guarded(res, async () => sendJson(res, 202, await r.approve(id)))],
    ['POST', /^\/api\/v1\/recovery\/actions\/([^/]+)\/rollback$/, (_q, res, _u, [id]) => guarded(res, async () => sendJson(res, 200, await r.rollback(id)))],
    ['GET', /^\/api\/v1\/recovery\/status$/, (_q, res) => sendJson(res, 200, { ...r.status(), settings: r.settings })],
    ...(diagnosis
      ? ([['GET', /^\/api\/v1\/incidents\/([^/]+)$/, (_q, res, _u, [id]) => {
          const inc = diagnosis.incidents.get(id);
          if (!inc) throw new HttpError(404, 'E_INCIDENT_NOT_FOUND', `no incident ${id} (list them with: meshmedic incidents)`);
          sendJson(res, 200, { ...inc, actions: r.actions(id) });
        }]] as RecoveryRoute[])
      : []),
  ];
}

function request(v: Record<string, unknown>): { namespace?: string; service?: string; incident?: string } {
  const out: { namespace?: string; service?: string; incident?: string } = {};
  for (const k of ['namespace', 'service'] as const) {
    const x = v[k];
    if (x === undefined || x === null || x === '') continue;
    if (typeof x !== 'string' || !NAME.test(x)) throw new HttpError(400, 'E_BAD_REQUEST', `${k} "${String(x)}" is not a name`);
    out[k] = x;
  }
  if (typeof v.incident === 'string' && v.incident) {
    if (!/^i\d+$/.test(v.incident)) throw new HttpError(400, 'E_BAD_REQUEST', `incident "${v.incident}" is not an incident id (i1, i2, ...)`);
    out.incident = v.incident;
  }
  return out;
}

async function guarded(_res: ServerResponse, f: () => unknown): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (e instanceof RecoveryError) throw new HttpError(httpStatusOf(e.code), e.code, e.message);
    throw e;
  }
}
