import { MetricsQueryError } from './errors.js';

// Prometheus durations: `1h30m`, `5m`, `90s`, `250ms`, `1d`, `1w`, `1y` (365 days).

const UNIT_MS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION_RE = /^(?:\d+(?:y|w|d|h|ms|m|s))+$/;

export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Milliseconds of a Prometheus duration; undefined when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** A duration or a number of seconds (`30s`, `1m`, `15`, `0.5`), as the HTTP API's `step` accepts. */
export function parseDurationOrSeconds(text: string, what: string): number {
  const d = parseDurationMs(text);
  if (d !== undefined) return d;
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n)) return Math.round(n * 1000);
  throw new MetricsQueryError('E_QUERY_PARAM', `invalid ${what} "${text}": expected a duration such as 15s or a number of seconds`);
}
