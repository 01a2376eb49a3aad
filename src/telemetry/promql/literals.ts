import { parseDurationMs } from './duration.js';
import { MetricsQueryError } from './errors.js';

// PromQL literals: numbers (decimal, hex, Inf, NaN, durations meaning seconds, `_` separators)
// and strings (Go's quoting: "..." and '...' with escapes, `...` raw).

export function parseNumber(raw: string): number {
  let s = raw.replace(/_/g, '');
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  const lower = s.toLowerCase();
  if (lower === 'inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(lower)) return sign * parseInt(lower.slice(2), 16);
  const d = parseDurationMs(s);
  if (d !== undefined) return (sign * d) / 1000; // a duration where a number goes means its seconds
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new MetricsQueryError('E_PROMQL_SYNTAX', `invalid number "${raw}"`);
  return sign * v;
}

export function unquote(raw: string): string {
  const q = raw[0];
  if (raw.length < 2 || raw[raw.length - 1] !== q) throw new MetricsQueryError('E_PROMQL_SYNTAX', `unterminated string ${raw}`);
  const body = raw.slice(1, -1);
  if (q === '`') return body;
  return body.replace(/\\(?:([abfnrtv\\'"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.))/g, (_m, simple, hex, u4, u8, oct, bad) => {
    if (simple) return ({ a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[simple];
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    if (u4) return String.fromCharCode(parseInt(u4, 16));
    if (u8) return String.fromCodePoint(parseInt(u8, 16));
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    throw new MetricsQueryError('E_PROMQL_SYNTAX', `invalid escape \\${bad} in string ${raw}`);
  });
}
