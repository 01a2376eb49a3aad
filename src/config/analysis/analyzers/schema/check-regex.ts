import type { FieldPath } from '../../../../api/resource.js';
import type { Findings } from './findings.js';
import { obj, str } from './yaml-values.js';

// Regexes (Istio compiles them with RE2) and the StringMatch (exact / prefix / regex) that
// carries most of them.

/**
 * Istio matches with RE2. JavaScript's engine is close enough to catch syntax errors once
 * RE2-only syntax is translated; constructs RE2 lacks (lookaround, backreferences) are errors.
 */
export function checkRegex(re: string): string | undefined {
  if (re.length > 1024) return 'regex is too long (at most 1024 characters)';
  if (/\(\?<?[=!]/.test(re)) return `regex "${re}" uses lookaround, which RE2 does not support`;
  if (/\\[1-9]|\\k</.test(re)) return `regex "${re}" uses a backreference, which RE2 does not support`;
  const translated = re
    .replace(/\(\?P</g, '(?<') // named groups
    .replace(/\(\?[imsU]+\)/g, '') // leading flag groups
    .replace(/\(\?[imsU]*-?[imsU]*:/g, '(?:') // flag-scoped groups
    .replace(/\\z/g, '$')
    .replace(/\\A/g, '^')
    .replace(/\[\[:\^?[a-z]+:\]\]/g, '[a]')
    .replace(/\\[pP]\{?[A-Za-z]+\}?/g, 'a');
  try {
    new RegExp(translated);
    return undefined;
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: /, '');
    return `invalid regex "${re}": ${detail} (Istio uses RE2 syntax)`;
  }
}

/** A StringMatch (`exact` / `prefix` / `regex`); `uri` may have an empty prefix, other matches may not. */
export function checkStringMatch(f: Findings, path: FieldPath, sm: unknown, allowEmptyPrefix = false): void {
  const m = obj(sm);
  if (!m) return;
  if ('prefix' in m && !allowEmptyPrefix && str(m.prefix) === '') f.error([...path, 'prefix'], 'prefix match must not be empty');
  if ('regex' in m) {
    const re = str(m.regex);
    if (re === '') f.error([...path, 'regex'], 'regex match must not be empty');
    else {
      const err = checkRegex(re);
      if (err) f.error([...path, 'regex'], err);
    }
  }
}
