// Istio's regexes are RE2 and match the whole string (Envoy's safe_regex). We run them on
// JavaScript's engine after translating RE2-only syntax; what RE2 rejects (lookaround,
// backreferences) we reject too, so a snapshot that Envoy would NACK is NACKed here.

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: 'A-Za-z0-9_',
  xdigit: '0-9A-Fa-f',
};

export type RegexResult = { ok: true; source: string; flags: string } | { ok: false; error: string };

/** Translates an RE2 pattern to a JavaScript source and flags, or says why RE2 would reject it. */
export function translateRe2(pattern: string): RegexResult {
  if (pattern.length > 1024) return { ok: false, error: 'regex is longer than 1024 characters' };
  if (/\(\?<?[=!]/.test(pattern)) return { ok: false, error: 'lookaround is not supported by RE2' };
  if (/\\[1-9]|\\k</.test(pattern)) return { ok: false, error: 'backreferences are not supported by RE2' };
  let flags = '';
  let src = pattern;
  // Leading flag group `(?i)`, `(?s)`, `(?is)`: the only inline-flag form JavaScript can express.
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]) {
      if (f === 'i' || f === 's' || f === 'm') flags += flags.includes(f) ? '' : f;
      else return { ok: false, error: `inline flag (?${f}) is not supported` };
    }
    src = src.slice(lead[0].length);
  }
  if (/\(\?[imsU-]+[):]/.test(src)) return { ok: false, error: 'inline flags are supported only at the start of the regex' };
  src = src
    .replace(/\\Q(.*?)(?:\\E|$)/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$') // without the m flag `$` is the end of input, as RE2's \z
    .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) => {
      const cls = POSIX_CLASSES[name];
      if (!cls) return m;
      return neg ? `&&NEG${cls}&&` : cls;
    });
  if (src.includes('&&NEG')) return { ok: false, error: 'negated POSIX classes are not supported' };
  if (/\\[pP]/.test(src)) flags += 'u';
  try {
    new RegExp(src, flags);
  } catch (e) {
    return { ok: false, error: (e as Error).message.replace(/^Invalid regular expression: /, '') };
  }
  return { ok: true, source: src, flags };
}

/** A whole-string matcher (RE2 full match), compiled once per snapshot. */
export function compileFullMatch(pattern: string): RegExp {
  const t = translateRe2(pattern);
  if (!t.ok) throw new Error(`invalid regex "${pattern}": ${t.error}`);
  return new RegExp(`^(?:${t.source})$`, t.flags);
}

/** A search (not anchored) regex, global, for Envoy's regex_rewrite (every match is replaced). */
export function compileGlobal(pattern: string): RegExp {
  const t = translateRe2(pattern);
  if (!t.ok) throw new Error(`invalid regex "${pattern}": ${t.error}`);
  return new RegExp(t.source, t.flags + 'g');
}

/** RE2 substitutions write groups as `\1`; JavaScript as `$1` (and `$` is literal in RE2). */
export function translateSubstitution(rewrite: string): string {
  return rewrite.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}
