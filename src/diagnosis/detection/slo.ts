import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

// What counts as failing: Kiali's request-health thresholds by default (any 5xx is Degraded, 10%
// is Failure), guarded against noise (a few errors in a quiet second are not an incident) and
// read against the baseline (a service that always had 3% errors fails at 3% + the margin).
// Configurable per mesh and per service, from a YAML/JSON file or the API.

export interface ServiceSlo {
  /** Error ratio (0..1) at which the service fails, whatever its baseline. */
  errorRatio?: number;
  /** Mean latency (ms) above which the service fails, whatever its baseline. */
  latencyMs?: number;
}

export interface SloConfig {
  /** The window each check reads (ms). */
  windowMs: number;
  /** The baseline window before it (ms). */
  baselineMs: number;
  /** An error ratio this far above the baseline fails (Kiali: any 5xx degrades; 0.02 keeps single stray errors out). */
  errorRatioMargin: number;
  /** At least this many errors in the window. */
  minErrors: number;
  /** Latency fails at this multiple of the baseline mean ... */
  latencyFactor: number;
  /** ... and at least this much above it (ms). */
  latencyMinIncreaseMs: number;
  /** Checks on fewer requests than this in the window say nothing. */
  minRequests: number;
  /** An instance whose share of its service's traffic falls below this part of its baseline share has lost its traffic. */
  instanceShareDrop: number;
  /** An incident closes after every check held for this long (ms). */
  closeAfterMs: number;
  /** Per service, by `name.namespace`. */
  services: Record<string, ServiceSlo>;
}

export const DEFAULT_SLO: SloConfig = {
  windowMs: 5000,
  baselineMs: 60_000,
  errorRatioMargin: 0.02,
  minErrors: 2,
  latencyFactor: 2,
  latencyMinIncreaseMs: 25,
  minRequests: 3,
  instanceShareDrop: 0.3,
  closeAfterMs: 15_000,
  services: {},
};

export class SloError extends Error {
  readonly code = 'E_SLO';
  constructor(message: string) {
    super(message);
    this.name = 'SloError';
  }
}

const NUMBERS: Array<[keyof SloConfig, number, number]> = [
  ['windowMs', 1000, 3_600_000],
  ['baselineMs', 5000, 24 * 3_600_000],
  ['errorRatioMargin', 0, 1],
  ['minErrors', 1, 1_000_000],
  ['latencyFactor', 1, 1000],
  ['latencyMinIncreaseMs', 0, 3_600_000],
  ['minRequests', 1, 1_000_000],
  ['instanceShareDrop', 0, 1],
  ['closeAfterMs', 1000, 24 * 3_600_000],
];

/** Checks a partial SLO (from a file or the API) and merges it over `base`. */
export function parseSlo(value: unknown, base: SloConfig = DEFAULT_SLO): SloConfig {
  if (value === null || value === undefined) return base;
  if (typeof value !== 'object' || Array.isArray(value)) throw new SloError('an SLO configuration must be an object');
  const v = value as Record<string, unknown>;
  const out: SloConfig = { ...base, services: { ...base.services } };
  for (const k of Object.keys(v)) if (k !== 'services' && !NUMBERS.some(([n]) => n === k)) throw new SloError(`unknown SLO field "${k}" (known: ${NUMBERS.map(([n]) => n).join(', ')}, services)`);
  for (const [name, min, max] of NUMBERS) {
    if (v[name] === undefined) continue;
    const n = v[name];
    if (typeof n !== 'number' || !(n >= min && n <= max)) throw new SloError(`${name} must be a number within ${min}..${max}, got ${JSON.stringify(n)}`);
    (out as unknown as Record<string, number>)[name] = n;
  }
  if (v.services !== undefined) {
    if (!v.services || typeof v.services !== 'object' || Array.isArray(v.services)) throw new SloError('services must map "name.namespace" to {errorRatio, latencyMs}');
    for (const [svc, raw] of Object.entries(v.services as Record<string, unknown>)) {
      if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(svc)) throw new SloError(`services: "${svc}" is not "name.namespace"`);
      const s = (raw ?? {}) as Record<string, unknown>;
      const slo: ServiceSlo = {};
      for (const k of Object.keys(s)) if (k !== 'errorRatio' && k !== 'latencyMs') throw new SloError(`services.${svc}: unknown field "${k}" (errorRatio, latencyMs)`);
      if (s.errorRatio !== undefined) {
        if (typeof s.errorRatio !== 'number' || !(s.errorRatio > 0 && s.errorRatio <= 1)) throw new SloError(`services.${svc}.errorRatio must be within (0, 1]`);
        slo.errorRatio = s.errorRatio;
      }
      if (s.latencyMs !== undefined) {
        if (typeof s.latencyMs !== 'number' || !(s.latencyMs > 0)) throw new SloError(`services.${svc}.latencyMs must be a number of milliseconds above 0`);
        slo.latencyMs = s.latencyMs;
      }
      out.services[svc] = slo;
    }
  }
  return out;
}

export function loadSloFile(file: string): SloConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SloError(`cannot read SLO file ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = load(text);
  } catch (e) {
    throw new SloError(`SLO file ${file} is not YAML: ${(e as Error).message}`);
  }
  return parseSlo(value);
}
