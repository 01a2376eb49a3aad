import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson } from './http-json.js';
import type { TraceService } from './traces.js';

// The tracing endpoints of the control plane's API (registered in api.ts):
//
//   POST /api/v1/spans                  a JSON array of spans from a sidecar -> 202 {accepted, rejected, refused}
//   GET  /api/v1/traces/:traceId        one trace: its spans as a tree (roots with children)
//   GET  /api/v1/traces?service=&namespace=&limit=&errors=true&since=<epoch ms>
//                                       recent traces touching a service, newest first, each
//                                       with its root span, duration and error flag; and the
//                                       store's counters (`stats`)

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type ApiRoute = [method: string, pattern: RegExp, handler: Handler];

const MAX_LIMIT = 1000;

export function traceRoutes(traces: TraceService): ApiRoute[] {
  return [
    ['POST', /^\/api\/v1\/spans$/, (req, res) => ingest(traces, req, res)],
    ['GET', /^\/api\/v1\/traces$/, (_req, res, url) => list(traces, res, url)],
    ['GET', /^\/api\/v1\/traces\/([^/]+)$/, (_req, res, _url, [id]) => one(traces, res, id)],
  ];
}

async function ingest(traces: TraceService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const result = traces.ingest(await readJson(req));
  if (result.accepted === 0 && result.problem !== undefined && result.rejected === 0) throw new HttpError(400, 'E_BAD_REQUEST', result.problem);
  sendJson(res, 202, result);
}

function one(traces: TraceService, res: ServerResponse, raw: string): void {
  const id = normalizeTraceId(raw);
  const view = traces.store.trace(id);
  if (!view) throw new HttpError(404, 'E_TRACE_NOT_FOUND', `no trace ${id} (traces are kept for a bounded time and number; see GET /api/v1/traces)`);
  sendJson(res, 200, view);
}

function list(traces: TraceService, res: ServerResponse, url: URL): void {
  const q = url.searchParams;
  const limit = q.has('limit') ? Number(q.get('limit')) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new HttpError(400, 'E_BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const since = q.has('since') ? Number(q.get('since')) : undefined;
  if (since !== undefined && !Number.isFinite(since)) throw new HttpError(400, 'E_BAD_REQUEST', 'since must be epoch milliseconds');
  const found = traces.store.recent({
    service: q.get('service') || undefined,
    namespace: q.get('namespace') || undefined,
    errorsOnly: q.get('errors') === 'true',
    sinceMs: since,
    limit,
  });
  sendJson(res, 200, { traces: found, stats: traces.status() });
}

/** 32 hex digits (a 16-digit B3 id is padded, as the store keeps it); anything else is a bad request. */
export function normalizeTraceId(raw: string): string {
  const id = raw.toLowerCase();
  if (!/^[0-9a-f]{16}$|^[0-9a-f]{32}$/.test(id)) throw new HttpError(400, 'E_BAD_TRACE_ID', `"${raw}" is not a trace id (16 or 32 hex digits)`);
  return id.padStart(32, '0');
}
