import { durationMs } from '../../../util/duration.js';
import { ChaosError } from './errors.js';
import { FAULT_TYPES, type FaultParams, type FaultType, type InjectRequest } from './types.js';

// Parameters of `chaos inject`, as typed on the command line (`--delay 200ms --percent 30`):
// which ones each fault type takes, their defaults and ranges. The CLI parses with these, and
// the mesh daemon checks a request again with `checkRequest` (its API may be called directly).

/** Raw flag values, by the option's camel-case name. */
export type RawParams = Partial<Record<ParamName, string>>;

export type ParamName = 'delay' | 'percent' | 'status' | 'cpu' | 'versionLabel' | 'replicas' | 'mode' | 'host' | 'subset' | 'maxConnections' | 'maxPending' | 'maxRequests';

export const DEFAULT_DURATION_MS = 5 * 60_000;
export const MAX_DURATION_MS = 24 * 3_600_000;
const MAX_DELAY_MS = 600_000;

export const MODES: Partial<Record<FaultType, readonly string[]>> = {
  'bad-config': ['missing-subset', 'wrong-host'],
  'external-outage': ['refuse', 'hang', 'error'],
  'bad-authz': ['allow-nobody', 'deny-all'],
  'bad-mtls': ['strict', 'disable'],
};

/** The flags each type takes (anything else is an error) and what an absent flag means. */
const ACCEPTS: Record<FaultType, { required?: ParamName[]; defaults: Partial<Record<ParamName, string>> }> = {
  'instance-crash': { defaults: {} },
  'instance-hang': { defaults: {} },
  latency: { required: ['delay'], defaults: { percent: '100' } },
  'error-rate': { defaults: { status: '500', percent: '100' } },
  'cpu-burn': { defaults: { cpu: '90' } },
  'network-delay': { required: ['delay'], defaults: { percent: '100' } },
  'bad-version': { defaults: { versionLabel: 'chaos', replicas: '1', percent: '50' } },
  'bad-config': { defaults: { mode: 'missing-subset', host: '', subset: '' } },
  'external-outage': { defaults: { mode: 'refuse' } },
  'pool-exhaustion': { defaults: { maxConnections: '1', maxPending: '1', maxRequests: '1' } },
  'bad-authz': { defaults: { mode: 'allow-nobody' } },
  'bad-mtls': { defaults: { mode: 'strict' } },
};

const FLAG: Record<ParamName, string> = {
  delay: '--delay', percent: '--percent', status: '--status', cpu: '--cpu', versionLabel: '--version-label', replicas: '--replicas',
  mode: '--mode', host: '--host', subset: '--subset', maxConnections: '--max-connections', maxPending: '--max-pending', maxRequests: '--max-requests',
};

const bad = (message: string): never => {
  throw new ChaosError('E_CHAOS_PARAM', message);
};

export function faultType(value: string): FaultType {
  if (!(FAULT_TYPES as readonly string[]).includes(value)) bad(`unknown fault type "${value}" (want one of ${FAULT_TYPES.join(', ')})`);
  return value as FaultType;
}

/** A Go/Istio duration (`200ms`, `1.5s`, `1m30s`) in milliseconds, more than 0 and at most `max`. */
export function parseDuration(text: string, flag: string, max: number): number {
  const ms = durationMs(text.trim());
  if (ms === undefined) bad(`${flag} "${text}" is not a duration (write e.g. 200ms, 30s, 5m)`);
  if (!(ms! > 0) || ms! > max) bad(`${flag} must be more than 0 and at most ${max / 1000}s, got ${text}`);
  return ms!;
}

/** `30`, `30%` or `12.5%`: a share within 0..100. */
export function parsePercent(text: string, flag: string, min = 0): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= min && v <= 100)) bad(`${flag} must be a percentage within ${min}..100, got ${text}`);
  return v;
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const v = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(v >= min && v <= max)) bad(`${flag} must be a whole number within ${min}..${max}, got ${text}`);
  return v;
}

/** Turns the flags given for a fault type into its parameters, with defaults; rejects flags the type does not take. */
export function parseParams(type: FaultType, raw: RawParams): FaultParams {
  const spec = ACCEPTS[type];
  const given = Object.entries(raw).filter(([, v]) => v !== undefined) as Array<[ParamName, string]>;
  for (const [name] of given) {
    if (!(name in spec.defaults) && !spec.required?.includes(name)) bad(`${type} does not take ${FLAG[name]}`);
  }
  for (const r of spec.required ?? []) if (raw[r] === undefined) bad(`${type} needs ${FLAG[r]}`);
  const v = { ...spec.defaults, ...Object.fromEntries(given) } as RawParams;
  const p: FaultParams = {};
  if (v.delay !== undefined) p.delayMs = parseDuration(v.delay, FLAG.delay, MAX_DELAY_MS);
  if (v.percent !== undefined) p.percent = parsePercent(v.percent, FLAG.percent);
  if (v.status !== undefined) p.status = wholeNumber(v.status, FLAG.status, 400, 599);
  if (v.cpu !== undefined) p.cpuPercent = parsePercent(v.cpu, FLAG.cpu, 1);
  if (v.versionLabel !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(v.versionLabel)) bad(`${FLAG.versionLabel} must be a DNS label (a-z, 0-9, -), got ${v.versionLabel}`);
    p.version = v.versionLabel;
  }
  if (v.replicas !== undefined) p.replicas = wholeNumber(v.replicas, FLAG.replicas, 1, 10);
  if (v.mode !== undefined) {
    const modes = MODES[type] ?? [];
    if (!modes.includes(v.mode)) bad(`${FLAG.mode} for ${type} must be one of ${modes.join(', ')}, got ${v.mode}`);
    p.mode = v.mode;
  }
  if (v.host) p.host = v.host.toLowerCase();
  if (v.subset) p.subset = v.subset;
  if (type === 'bad-config' && p.host && p.mode !== 'wrong-host') bad(`${FLAG.host} goes with --mode wrong-host`);
  if (type === 'bad-config' && p.subset && p.mode !== 'missing-subset') bad(`${FLAG.subset} goes with --mode missing-subset`);
  if (v.maxConnections !== undefined) p.maxConnections = wholeNumber(v.maxConnections, FLAG.maxConnections, 1, 1000);
  if (v.maxPending !== undefined) p.maxPending = wholeNumber(v.maxPending, FLAG.maxPending, 1, 1000);
  if (v.maxRequests !== undefined) p.maxRequests = wholeNumber(v.maxRequests, FLAG.maxRequests, 1, 1000);
  return p;
}

/** The daemon's check of a request that did not come through the CLI's parsing: same rules, typed input. */
export function checkRequest(body: unknown): InjectRequest {
  const r = body as Partial<InjectRequest> | undefined;
  if (!r || typeof r !== 'object') bad('the request must be a JSON object');
  const type = faultType(String(r!.type));
  if (typeof r!.target !== 'string' || r!.target.trim() === '') bad('a target is required (--target)');
  if (r!.namespace !== undefined && typeof r!.namespace !== 'string') bad('namespace must be a string');
  const durationMs = r!.durationMs ?? DEFAULT_DURATION_MS;
  if (typeof durationMs !== 'number' || !(durationMs > 0 && durationMs <= MAX_DURATION_MS)) bad(`durationMs must be within 1..${MAX_DURATION_MS}`);
  // Re-parse from the typed values so the same defaults and ranges apply.
  const p = (r!.params ?? {}) as FaultParams;
  const raw: RawParams = {};
  if (p.delayMs !== undefined) raw.delay = `${p.delayMs}ms`;
  if (p.percent !== undefined) raw.percent = String(p.percent);
  if (p.status !== undefined) raw.status = String(p.status);
  if (p.cpuPercent !== undefined) raw.cpu = String(p.cpuPercent);
  if (p.version !== undefined) raw.versionLabel = p.version;
  if (p.replicas !== undefined) raw.replicas = String(p.replicas);
  if (p.mode !== undefined) raw.mode = p.mode;
  if (p.host !== undefined) raw.host = p.host;
  if (p.subset !== undefined) raw.subset = p.subset;
  if (p.maxConnections !== undefined) raw.maxConnections = String(p.maxConnections);
  if (p.maxPending !== undefined) raw.maxPending = String(p.maxPending);
  if (p.maxRequests !== undefined) raw.maxRequests = String(p.maxRequests);
  return { type, target: r!.target!.trim(), ...(r!.namespace && { namespace: r!.namespace }), durationMs, params: parseParams(type, raw) };
}
