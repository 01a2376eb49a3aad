import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson } from '../../controlplane/http-json.js';
import { parseDurationMs } from '../../telemetry/promql/duration.js';
import { MetricsQueryError } from '../../telemetry/promql/errors.js';
import { parseSlo, SloError } from '../detection/slo.js';
import type { DiagnosisService } from '../diagnosis-service.js';

// The diagnosis endpoints of the control plane's API (registered in api.ts):
//
//   GET /api/v1/incidents?status=open|closed&namespace=&limit=   newest first, with the top cause
//   GET /api/v1/incidents/:id                 one incident: detections, ranked causes with evidence, timeline
//   GET /api/v1/diagnosis?service=&namespace=&window=   an on-demand ranking (window: a Prometheus
//                                             duration; default: since the open incident began, else 1m)
//   GET /api/v1/diagnosis/slo, PUT /api/v1/diagnosis/slo   the checks' thresholds (PUT: a partial
//                                             SLO merged over the current one)

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type DiagnosisRoute = [method: string, pattern: RegExp, handler: Handler];

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function diagnosisRoutes(d: DiagnosisService): DiagnosisRoute[] {
  return [
    ['GET', /^\/api\/v1\/incidents$/, (_req, res, url) => list(d, res, url.searchParams)],
    ['GET', /^\/api\/v1\/incidents\/([^/]+)$/, (_req, res, _url, [id]) => one(d, res, id)],
    ['GET', /^\/api\/v1\/diagnosis$/, (_req, res, url) => diagnose(d, res, url.searchParams)],
    ['GET', /^\/api\/v1\/diagnosis\/slo$/, (_req, res) => sendJson(res, 200, d.slo)],
    ['PUT', /^\/api\/v1\/diagnosis\/slo$/, (req, res) => putSlo(d, req, res)],
  ];
}

function list(d: DiagnosisService, res: ServerResponse, p: URLSearchParams): void {
  const status = p.get('status') || undefined;
  if (status !== undefined && status !== 'open' && status !== 'closed') throw new HttpError(400, 'E_BAD_REQUEST', `status must be open or closed, got "${status}"`);
  const namespace = p.get('namespace') || undefined;
  if (namespace !== undefined && !NAME.test(namespace)) throw new HttpError(400, 'E_BAD_REQUEST', `"${namespace}" is not a namespace name`);
  const limit = p.has('limit') ? Number(p.get('limit')) : 100;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw new HttpError(400, 'E_BAD_REQUEST', 'limit must be a whole number within 1..10000');
  sendJson(res, 200, { incidents: d.incidents.list({ status, namespace, limit }) });
}

function one(d: DiagnosisService, res: ServerResponse, id: string): void {
  const inc = d.incidents.get(id);
  if (!inc) throw new HttpError(404, 'E_INCIDENT_NOT_FOUND', `no incident ${id} (list them with: meshmedic incidents)`);
  sendJson(res, 200, inc);
}

async function diagnose(d: DiagnosisService, res: ServerResponse, p: URLSearchParams): Promise<void> {
  const namespace = p.get('namespace') || null;
  if (namespace !== null && !NAME.test(namespace)) throw new HttpError(400, 'E_BAD_REQUEST', `"${namespace}" is not a namespace name`);
  const service = p.get('service') || undefined;
  if (service !== undefined && !NAME.test(service)) throw new HttpError(400, 'E_BAD_REQUEST', `"${service}" is not a service name`);
  let windowMs: number | undefined;
  const w = p.get('window');
  if (w) {
    windowMs = parseDurationMs(w);
    if (windowMs === undefined || windowMs < 5000 || windowMs > 24 * 3_600_000) throw new HttpError(400, 'E_DIAGNOSIS_WINDOW', `window "${w}" must be a duration from 5s to 24h (30s, 5m, 1h)`);
  }
  try {
    sendJson(res, 200, await d.diagnose({ namespace, service, windowMs }));
  } catch (e) {
    if (e instanceof MetricsQueryError) throw new HttpError(e.code === 'E_METRICS_UNAVAILABLE' ? 503 : 422, e.code, e.message);
    throw e;
  }
}

async function putSlo(d: DiagnosisService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    d.slo = parseSlo(await readJson(req), d.slo);
  } catch (e) {
    if (e instanceof SloError) throw new HttpError(400, e.code, e.message);
    throw e;
  }
  sendJson(res, 200, d.slo);
}
