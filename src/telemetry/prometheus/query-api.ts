import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsSource } from '../metrics-source.js';
import { MetricsQueryError, type PrometheusErrorType } from '../promql/errors.js';
import type { TargetHealth } from '../scrape/target-state.js';
import { parseStepParam, parseTimeParam, toWire } from './api-format.js';

// The control plane's Prometheus-compatible query API, so tools (and the dashboard) can use the
// embedded store as they would use Prometheus:
//
//   GET|POST /api/v1/query?query=&time=
//   GET|POST /api/v1/query_range?query=&start=&end=&step=
//   GET|POST /api/v1/series?match[]=&start=&end=
//   GET      /api/v1/label/:name/values?match[]=
//   GET      /api/v1/targets                       the scraper's targets and their health
//
// Answers are Prometheus's JSON: {"status":"success","data":...} or
// {"status":"error","errorType":...,"error":...} (plus our stable `errorCode`).

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type MetricsRoute = [method: string, pattern: RegExp, handler: Handler];

export interface MetricsApiDeps {
  source: MetricsSource;
  now(): number;
  targets?(): TargetHealth[];
}

const STATUS: Record<PrometheusErrorType, number> = { bad_data: 400, execution: 422, unavailable: 503, internal: 500 };

export function metricsRoutes(deps: MetricsApiDeps): MetricsRoute[] {
  const query = wrap(async (p) => toWire(await deps.source.query(required(p, 'query'), parseTimeParam(p.get('time'), 'time', deps.now()))));
  const queryRange = wrap(async (p) => {
    const start = parseTimeParam(required(p, 'start'), 'start', 0);
    const end = parseTimeParam(required(p, 'end'), 'end', 0);
    return toWire(await deps.source.queryRange(required(p, 'query'), start, end, parseStepParam(p.get('step'))));
  });
  const series = wrap(async (p) => {
    const match = p.getAll('match[]');
    if (match.length === 0) throw new MetricsQueryError('E_QUERY_PARAM', 'no match[] parameter provided');
    const end = parseTimeParam(p.get('end'), 'end', deps.now());
    const start = p.get('start') ? parseTimeParam(p.get('start'), 'start', 0) : undefined;
    return deps.source.series(match, start, end);
  });
  const labelValues = (name: string) => wrap(async (p) => deps.source.labelValues(name, p.getAll('match[]')));
  return [
    ['GET', /^\/api\/v1\/query$/, query],
    ['POST', /^\/api\/v1\/query$/, query],
    ['GET', /^\/api\/v1\/query_range$/, queryRange],
    ['POST', /^\/api\/v1\/query_range$/, queryRange],
    ['GET', /^\/api\/v1\/series$/, series],
    ['POST', /^\/api\/v1\/series$/, series],
    ['GET', /^\/api\/v1\/label\/([^/]+)\/values$/, (req, res, url, [name]) => labelValues(name)(req, res, url, [])],
    ['GET', /^\/api\/v1\/targets$/, (_req, res) => send(res, 200, { status: 'success', data: { activeTargets: (deps.targets?.() ?? []).map(targetView) } })],
  ];
}

function wrap(answer: (params: URLSearchParams) => Promise<unknown>): Handler {
  return async (req, res, url) => {
    try {
      const params = await requestParams(req, url);
      send(res, 200, { status: 'success', data: await answer(params) });
    } catch (e) {
      if (!(e instanceof MetricsQueryError)) throw e;
      send(res, STATUS[e.errorType], { status: 'error', errorType: e.errorType, error: e.message, errorCode: e.code, ...(e.feature && { feature: e.feature }) });
    }
  };
}

/** Query string plus, for POST, a form-encoded body (as Prometheus accepts both). */
async function requestParams(req: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.searchParams);
  if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 1_000_000) throw new MetricsQueryError('E_QUERY_PARAM', 'request body too large');
    }
    for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
  }
  return params;
}

function required(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null || v === '') throw new MetricsQueryError('E_QUERY_PARAM', `invalid parameter "${name}": missing`);
  return v;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function targetView(t: TargetHealth): Record<string, unknown> {
  return {
    labels: t.labels,
    scrapeUrl: t.scrapeUrl,
    health: t.health,
    lastError: t.lastError,
    lastScrape: t.lastScrape !== undefined ? new Date(t.lastScrape).toISOString() : null,
    lastScrapeDuration: t.lastScrapeDurationMs !== undefined ? t.lastScrapeDurationMs / 1000 : null,
    lastSamples: t.lastSamples,
  };
}
