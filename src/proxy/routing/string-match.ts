import type { StringMatch } from '../../api/snapshot.js';
import { compileFullMatch } from './regex.js';

/** A compiled string predicate. */
export type StringPredicate = (value: string) => boolean;

/** Istio's StringMatch: exact, prefix or RE2 regex (whole string). `ignoreCase` applies to exact and prefix only, as Envoy's case_sensitive. */
export function compileStringMatch(m: StringMatch, ignoreCase = false): StringPredicate {
  if ('exact' in m) {
    const want = ignoreCase ? m.exact.toLowerCase() : m.exact;
    return ignoreCase ? (v) => v.length === want.length && v.toLowerCase() === want : (v) => v === want;
  }
  if ('prefix' in m) {
    const want = ignoreCase ? m.prefix.toLowerCase() : m.prefix;
    if (want === '') return () => true;
    return ignoreCase ? (v) => v.length >= want.length && v.slice(0, want.length).toLowerCase() === want : (v) => v.startsWith(want);
  }
  const re = compileFullMatch(m.regex);
  return (v) => re.test(v);
}

export function stringMatchKind(m: unknown): 'exact' | 'prefix' | 'regex' | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const keys = Object.keys(m);
  if (keys.length !== 1) return undefined;
  const k = keys[0];
  if ((k === 'exact' || k === 'prefix' || k === 'regex') && typeof (m as Record<string, unknown>)[k] === 'string') return k;
  return undefined;
}
