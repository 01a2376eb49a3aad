// The value syntaxes of isotope files: Go durations (`10ms`, `1.5s`, `1m30s`), byte sizes as
// docker/go-units reads them (`1 KB`, `16KiB`, `10k`: binary multiples) and percentages
// (`0.01%`, or a number between 0 and 1). Each parser returns a value or a message.

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** A Go duration in milliseconds. `0` alone is allowed; other numbers need a unit. */
export function parseDuration(v: unknown): Parsed<number> {
  if (v === 0 || v === '0') return { ok: true, value: 0 };
  if (typeof v === 'number') return { ok: false, message: `duration ${v} has no unit (write e.g. ${v}ms)` };
  if (typeof v !== 'string' || v.trim() === '') return { ok: false, message: 'expected a duration such as 10ms or 1.5s' };
  const s = v.trim();
  if (s.startsWith('-')) return { ok: false, message: `duration "${s}" is negative` };
  let ms = 0;
  DURATION_PART.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m) return { ok: false, message: `"${s}" is not a duration (expected e.g. 10ms, 1.5s, 1m30s)` };
    ms += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = DURATION_PART.lastIndex;
  }
  return { ok: true, value: ms };
}

/** `1500` -> `1.5s`, `10` -> `10ms`, `0.5` -> `500us`: the shortest exact Go duration for serializing. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (Number.isInteger(ms / 1000)) return `${ms / 1000}s`;
  if (ms >= 1) return `${round(ms)}ms`;
  return `${round(ms * 1000)}us`;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(i)?(b)?$/i;
const SIZE_MULT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes, from a non-negative integer or a string like `1 KB`, `16KiB`, `10k`, `128`. */
export function parseByteSize(v: unknown): Parsed<number> {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return { ok: false, message: `size ${v} must be a whole number of bytes, 0 or more` };
    return { ok: true, value: v };
  }
  if (typeof v !== 'string') return { ok: false, message: 'expected a size such as 128, 1 KB or 16KiB' };
  const m = SIZE.exec(v.trim());
  if (!m) return { ok: false, message: `"${v}" is not a size (expected e.g. 128, 1 KB, 16KiB)` };
  const mult = m[2] ? SIZE_MULT[m[2].toLowerCase()] : 1;
  return { ok: true, value: Math.floor(Number(m[1]) * mult) };
}

/** A fraction 0..1, from a number in 0..1 or a string `X%` with X in 0..100 (isotope's pct.Percentage). */
export function parsePercentage(v: unknown): Parsed<number> {
  if (typeof v === 'number') {
    if (!(v >= 0 && v <= 1)) return { ok: false, message: `${v} is out of range (a number must be between 0 and 1; or write a percentage such as 5%)` };
    return { ok: true, value: v };
  }
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$/.exec(v);
    if (!m) return { ok: false, message: `"${v}" is not a percentage (expected e.g. 5%, 0.1%, or a number between 0 and 1)` };
    const f = Number(m[1]) / 100;
    if (f > 1) return { ok: false, message: `${v} is more than 100%` };
    return { ok: true, value: f };
  }
  return { ok: false, message: 'expected a percentage such as 5% or a number between 0 and 1' };
}
