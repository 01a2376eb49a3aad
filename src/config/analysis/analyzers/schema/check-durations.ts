import type { FieldPath } from '../../../../api/resource.js';
import type { Findings } from './findings.js';
import { isSet } from './yaml-values.js';

// Durations written in Go syntax (timeouts, intervals, TTLs).

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const DURATION_RE = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const SEGMENT_RE = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * A duration as Istio's YAML accepts it (Go syntax: `10s`, `1.5s`, `100ms`, `1h30m`; protobuf's
 * `1.000s` is a special case), in nanoseconds; undefined when it does not parse.
 */
export function parseDuration(s: string): bigint | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  const negative = s.startsWith('-');
  let total = 0n;
  for (const m of s.matchAll(SEGMENT_RE)) {
    const unit = UNIT_NANOS[m[3]];
    const whole = BigInt(m[1] || '0');
    const frac = m[2] ?? '';
    // Fractions are exact to the nanosecond: scale the digits to the unit, dropping what is finer.
    const fracNanos = frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n;
    total += whole * unit + fracNanos;
  }
  return negative ? -total : total;
}

const MS = 1_000_000n;

/** Istio's ValidateDuration: at least 1ms and a whole number of milliseconds. */
export function checkDuration(f: Findings, path: FieldPath, v: unknown): void {
  if (!isSet(v) || typeof v !== 'string') return;
  const ns = parseDuration(v);
  if (ns === undefined) f.error(path, `"${v}" is not a valid duration (write e.g. 10s, 500ms or 1m30s)`);
  else if (ns < MS) f.error(path, `duration ${v} must be at least 1ms`);
  else if (ns % MS !== 0n) f.error(path, `duration ${v} is finer than milliseconds, which is not supported`);
}

/** Duration in nanoseconds, or undefined when unset or not parseable. */
export function durationNanos(v: unknown): bigint | undefined {
  return typeof v === 'string' ? parseDuration(v) : undefined;
}
