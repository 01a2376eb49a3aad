// Label matchers as PromQL writes them: `=`, `!=`, `=~`, `!~`. Regexes are fully anchored, as
// in Prometheus (RE2 syntax; JavaScript's engine accepts the common subset). A label that is
// absent matches as the empty string.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface CompiledMatcher extends LabelMatcher {
  matches(value: string): boolean;
}

const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_MAX = 1000;

export class MatcherError extends Error {
  readonly code = 'E_PROMQL_BAD_REGEX';
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

function anchored(source: string): RegExp {
  let re = regexCache.get(source);
  if (re) return re;
  try {
    // `s` flag: `.` matches newlines, as RE2 in Prometheus (which sets (?s)).
    re = new RegExp(`^(?:${source})$`, 's');
  } catch (e) {
    throw new MatcherError(`invalid regular expression "${source}": ${(e as Error).message}`);
  }
  if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
  regexCache.set(source, re);
  return re;
}

export function compileMatcher(m: LabelMatcher): CompiledMatcher {
  switch (m.op) {
    case '=':
      return { ...m, matches: (v) => v === m.value };
    case '!=':
      return { ...m, matches: (v) => v !== m.value };
    case '=~': {
      const re = anchored(m.value);
      return { ...m, matches: (v) => re.test(v) };
    }
    case '!~': {
      const re = anchored(m.value);
      return { ...m, matches: (v) => !re.test(v) };
    }
  }
}

export function matchesLabels(matchers: readonly CompiledMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) if (!m.matches(Object.hasOwn(labels, m.name) ? labels[m.name] : '')) return false;
  return true;
}
