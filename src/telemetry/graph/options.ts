import { parseDurationMs } from '../promql/duration.js';
import { GRAPH_LEVELS, type GraphLevel } from './types.js';

// What a graph or stat request may ask for, checked once for the API and the CLI alike.

export type GraphErrorCode =
  | 'E_GRAPH_WINDOW' // not a Prometheus duration, or outside 1s..24h
  | 'E_GRAPH_NAMESPACE' // not a Kubernetes namespace name
  | 'E_GRAPH_LEVEL' // not service, workload or instance
  | 'E_STAT_KIND' // not service or workload
  | 'E_GRAPH_TIME'; // not a time

export class GraphRequestError extends Error {
  constructor(
    readonly code: GraphErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GraphRequestError';
  }
}

export const DEFAULT_WINDOW = '1m';
const MIN_WINDOW_MS = 1000;
const MAX_WINDOW_MS = 24 * 3_600_000;

export interface GraphQueryOptions {
  /** Prometheus duration (default 1m). */
  window?: string;
  namespace?: string;
  level?: GraphLevel;
  /** Evaluation time, Unix ms (default: the source's now). */
  timeMs?: number;
}

export interface ResolvedOptions {
  window: string;
  windowMs: number;
  namespace: string | null;
  level: GraphLevel;
  timeMs?: number;
}

export function parseWindow(text: string | undefined): { window: string; windowMs: number } {
  const window = text === undefined || text === '' ? DEFAULT_WINDOW : text;
  const ms = parseDurationMs(window);
  if (ms === undefined) throw new GraphRequestError('E_GRAPH_WINDOW', `window "${window}" is not a duration (use Prometheus's form: 30s, 1m, 5m, 1h)`);
  if (ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS) throw new GraphRequestError('E_GRAPH_WINDOW', `window "${window}" must be from 1s to 24h`);
  return { window, windowMs: ms };
}

/** A DNS-1123 label, as Kubernetes namespaces are; they go into PromQL matchers and regexes. */
export function parseNamespace(text: string | undefined | null): string | null {
  if (text === undefined || text === null || text === '') return null;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)) throw new GraphRequestError('E_GRAPH_NAMESPACE', `"${text}" is not a namespace name (lower-case letters, digits and '-')`);
  return text;
}

export function parseLevel(text: string | undefined | null): GraphLevel {
  if (text === undefined || text === null || text === '') return 'workload';
  if (!(GRAPH_LEVELS as readonly string[]).includes(text)) throw new GraphRequestError('E_GRAPH_LEVEL', `level "${text}" is not one of ${GRAPH_LEVELS.join(', ')}`);
  return text as GraphLevel;
}

export type StatKind = 'service' | 'workload';

/** kubectl-style names: service, services, svc; workload, workloads, wl, deploy(ment). */
export function parseStatKind(text: string | undefined | null): StatKind {
  if (text === undefined || text === null || text === '') return 'service';
  const t = text.toLowerCase();
  if (['service', 'services', 'svc'].includes(t)) return 'service';
  if (['workload', 'workloads', 'wl', 'deploy', 'deployment', 'deployments'].includes(t)) return 'workload';
  throw new GraphRequestError('E_STAT_KIND', `"${text}" is not a kind stat knows (service or workload)`);
}

/** Unix seconds (as Prometheus's `time`) or RFC 3339. */
export function parseTime(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null || text === '') return undefined;
  const n = Number(text);
  if (Number.isFinite(n)) return Math.round(n * 1000);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new GraphRequestError('E_GRAPH_TIME', `"${text}" is not a time (Unix seconds or RFC 3339)`);
  return ms;
}

export function resolveOptions(o: GraphQueryOptions): ResolvedOptions {
  return { ...parseWindow(o.window), namespace: parseNamespace(o.namespace), level: o.level ?? 'workload', timeMs: o.timeMs };
}
