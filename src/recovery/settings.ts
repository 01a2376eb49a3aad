import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { RecoveryError } from './errors.js';

// Recovery's settings: the mode, the verification window, the safety limits and the expiry
// policy. Defaults below; `<state>/recovery.yaml` (written by `meshmedic up --auto-recover`, or by
// hand) overrides any of them.

export interface RecoverySettings {
  /** Auto: the control plane runs the plan once an incident's top cause is stable. Manual: it proposes and waits. */
  auto: boolean;
  /** How long the SLO is watched after an action is applied (ms). */
  verifyWindowMs: number;
  /** The top cause must have stayed the same for this long before auto mode acts (ms). */
  stableCauseMs: number;
  /** A top cause scored at least this (0..1) is acted on without waiting for `stableCauseMs`: the evidence is decisive. 1: always wait. */
  decisiveScore: number;
  /** While the ranking keeps moving, act on the top cause of the moment once the incident has been open this long (ms). */
  actWithinMs: number;
  /** Never quarantine more than this share of a service's instances (0..1). */
  maxQuarantineShare: number;
  /** Keep at least this share of a service's instances ready and serving (0..1). */
  minHealthyShare: number;
  /** At most this many actions applied per minute (the whole mesh). */
  maxActionsPerMinute: number;
  /** A quarantine is lifted once its instance has been ready and not failing for this long (ms); 0: never. */
  liftQuarantineAfterMs: number;
  /** A quarantine of an instance that never stopped being ready (errors, latency) is lifted after this long (ms); 0: never. */
  quarantineTtlMs: number;
  /** How many instances scale-up starts. */
  scaleUpBy: number;
}

export const DEFAULT_SETTINGS: RecoverySettings = {
  auto: false,
  verifyWindowMs: 10_000,
  stableCauseMs: 3000,
  decisiveScore: 0.9,
  actWithinMs: 10_000,
  maxQuarantineShare: 0.5,
  minHealthyShare: 0.5,
  maxActionsPerMinute: 6,
  liftQuarantineAfterMs: 10_000,
  quarantineTtlMs: 300_000,
  scaleUpBy: 1,
};

const RANGES: Record<Exclude<keyof RecoverySettings, 'auto'>, [number, number]> = {
  verifyWindowMs: [1000, 600_000],
  stableCauseMs: [0, 600_000],
  decisiveScore: [0, 1],
  actWithinMs: [0, 3_600_000],
  maxQuarantineShare: [0, 1],
  minHealthyShare: [0, 1],
  maxActionsPerMinute: [1, 1000],
  liftQuarantineAfterMs: [0, 24 * 3_600_000],
  quarantineTtlMs: [0, 24 * 3_600_000],
  scaleUpBy: [1, 20],
};

/** Checks a partial settings object and merges it over `base`. */
export function parseSettings(value: unknown, base: RecoverySettings = DEFAULT_SETTINGS): RecoverySettings {
  if (value === null || value === undefined) return base;
  if (typeof value !== 'object' || Array.isArray(value)) throw new RecoveryError('E_RECOVERY_SETTINGS', 'recovery settings must be an object');
  const out: RecoverySettings = { ...base };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'auto') {
      if (typeof v !== 'boolean') throw new RecoveryError('E_RECOVERY_SETTINGS', `auto must be true or false, got ${JSON.stringify(v)}`);
      out.auto = v;
      continue;
    }
    const range = RANGES[k as keyof typeof RANGES];
    if (!range) throw new RecoveryError('E_RECOVERY_SETTINGS', `unknown recovery setting "${k}" (known: auto, ${Object.keys(RANGES).join(', ')})`);
    if (typeof v !== 'number' || !(v >= range[0] && v <= range[1])) throw new RecoveryError('E_RECOVERY_SETTINGS', `${k} must be a number within ${range[0]}..${range[1]}, got ${JSON.stringify(v)}`);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

export function loadSettingsFile(file: string): RecoverySettings {
  let value: unknown;
  try {
    value = load(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RecoveryError('E_RECOVERY_SETTINGS', `cannot read recovery settings ${file}: ${(e as Error).message}`);
  }
  return parseSettings(value);
}
