import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsSource } from '../telemetry/metrics-source.js';
import { MetricsQueryError } from '../telemetry/promql/errors.js';
import { buildGraph } from '../telemetry/graph/build-graph.js';
import { GraphRequestError, parseLevel, parseStatKind, parseTime } from '../telemetry/graph/options.js';
import { buildStat } from '../telemetry/graph/stat.js';
import { HttpError, sendJson } from './http-json.js';

// The service graph and `stat` endpoints of the control plane's API (registered in api.ts),
// read from the MetricsSource alone (docs/observability-graph.md):
//
//   GET /api/v1/graph?namespace=&window=1m&level=service|workload|instance&time=
//         {level, namespace, window, windowSeconds, timeMs, nodes, edges, queries}
//   GET /api/v1/stat?kind=service|workload&namespace=&window=1m&name=&time=
//         {kind, namespace, window, windowSeconds, timeMs, rows, queries}
//
// Bad parameters answer 400 with a stable code (E_GRAPH_WINDOW, E_GRAPH_NAMESPACE,
// E_GRAPH_LEVEL, E_STAT_KIND, E_GRAPH_TIME); a metrics backend that fails answers 503
// (E_METRICS_UNAVAILABLE) or 422 with the query error's code.

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type GraphRoute = [method: string, pattern: RegExp, handler: Handler];

export interface GraphApiDeps {
  source: MetricsSource;
  now(): number;
}

export function graphRoutes(deps: GraphApiDeps): GraphRoute[] {
  return [
    ['GET', /^\/api\/v1\/graph$/, (_req, res, url) => answer(res, () => graph(deps, url.searchParams))],
    ['GET', /^\/api\/v1\/stat$/, (_req, res, url) => answer(res, () => stat(deps, url.searchParams))],
  ];
}

const param = (p: URLSearchParams, name: string) => p.get(name) ?? undefined;

function graph(deps: GraphApiDeps, p: URLSearchParams) {
  return buildGraph(
    deps.source,
    { namespace: param(p, 'namespace'), window: param(p, 'window'), level: parseLevel(p.get('level')), timeMs: parseTime(p.get('time')) },
    () => deps.now(),
  );
}

function stat(deps: GraphApiDeps, p: URLSearchParams) {
  return buildStat(
    deps.source,
    { kind: parseStatKind(p.get('kind')), namespace: param(p, 'namespace'), window: param(p, 'window'), name: param(p, 'name') || undefined, timeMs: parseTime(p.get('time')) },
    () => deps.now(),
  );
}

async function answer(res: ServerResponse, build: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, await build());
  } catch (e) {
    if (e instanceof GraphRequestError) throw new HttpError(400, e.code, e.message);
    if (e instanceof MetricsQueryError) throw new HttpError(e.errorType === 'unavailable' ? 503 : 422, e.code, `metrics query failed: ${e.message}`);
    throw e;
  }
}
