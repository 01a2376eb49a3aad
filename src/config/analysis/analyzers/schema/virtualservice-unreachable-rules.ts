import type { Findings } from './findings.js';
import { entries, list, num, obj, str, type Obj } from './yaml-values.js';

// The rule-order analysis of a VirtualService: rules no request can reach (IST0130) and
// matches an earlier match already takes (IST0131).

/** Istio names an HTTP rule by its `name` (quoted) or its index; TCP/TLS rules by index. */
function ruleName(route: unknown, i: number, named: boolean): string {
  const name = named ? str(obj(route)?.name) : '';
  return name ? JSON.stringify(name) : `#${i}`;
}

const matchName = ruleName;

// Map-valued match fields: an empty map is the same as none (Go's JSON omits both).
const MAP_FIELDS = new Set(['headers', 'queryParams', 'withoutHeaders', 'sourceLabels']);

/**
 * A canonical text of a match for equality: keys sorted, the match's own `name` left out, and
 * zero values dropped the way Go's JSON encoding of the proto drops them.
 */
function matchKey(match: unknown, dropName: boolean): string {
  const canon = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.length ? v.map((x) => canon(x)) : undefined;
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const c = canon((v as Obj)[k], k);
        if (c !== undefined) out[k] = c;
      }
      return key && MAP_FIELDS.has(key) && Object.keys(out).length === 0 ? undefined : out;
    }
    if (v === null || v === false || v === 0 || v === '' || v === undefined) return undefined;
    return v;
  };
  const m = obj(match);
  if (m && dropName) {
    const { name: _name, ...rest } = m;
    return JSON.stringify(canon(rest) ?? null);
  }
  return JSON.stringify(canon(match) ?? null);
}

/** A URI-prefix match, reduced to what decides whether an earlier one covers it. */
interface PrefixMatch {
  rule: string;
  match: string;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  headers: Map<string, string>;
  queryParams: Map<string, string>;
  withoutHeaders: Map<string, string>;
}

/** `exact:v` / `prefix:v` / '' for a StringMatch (regexes are not compared). */
function exactOrPrefix(sm: unknown): string {
  const m = obj(sm);
  if (str(m?.exact) !== '') return `exact:${str(m?.exact)}`;
  if (str(m?.prefix) !== '') return `prefix:${str(m?.prefix)}`;
  return '';
}

function toPrefixMatch(route: unknown, routeIndex: number, match: Obj, matchIndex: number): PrefixMatch | undefined {
  const prefix = str(obj(match.uri)?.prefix);
  if (prefix === '') return undefined;
  const stringMatches = (v: unknown) => new Map(entries(v).map(([k, sm]) => [k, exactOrPrefix(sm)]));
  return {
    rule: ruleName(route, routeIndex, true),
    match: matchName(match, matchIndex, true),
    prefix,
    port: num(match.port),
    // A match without a method is compared as a GET.
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: stringMatches(match.headers),
    queryParams: stringMatches(match.queryParams),
    withoutHeaders: stringMatches(match.withoutHeaders),
  };
}

/** Whether `earlier` takes every request `later` would (Istio's coveredValidation, same direction of the prefix tests). */
function covers(earlier: PrefixMatch, later: PrefixMatch): boolean {
  if (!later.prefix.startsWith(earlier.prefix)) return false;
  if (later.port !== earlier.port) return false;
  if (earlier.method !== later.method && !earlier.method.startsWith(later.method)) return false;
  if (earlier.authority !== later.authority && !earlier.authority.startsWith(later.authority)) return false;
  const mapCovers = (a: Map<string, string>, b: Map<string, string>) => {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) {
      const w = b.get(k);
      if (w === undefined) return false;
      if (v !== w && !v.startsWith(w)) return false;
    }
    return true;
  };
  return mapCovers(earlier.headers, later.headers) && mapCovers(earlier.queryParams, later.queryParams) && mapCovers(earlier.withoutHeaders, later.withoutHeaders);
}

/**
 * Rules that can never be used: a rule after a catch-all, a rule whose every match an earlier
 * rule already has. HTTP rules also check URI prefixes that an earlier, shorter prefix covers;
 * TCP and TLS rules only exact duplicates.
 */
export function findUnreachableRules(f: Findings, routes: unknown[], http: boolean): void {
  const seen = new Map<string, number>();
  let catchAllSeen = false;
  const prefixMatches: PrefixMatch[] = [];
  routes.forEach((route, i) => {
    const r = obj(route);
    if (!r) return;
    const matches = list(r.match);
    if (matches.length === 0) {
      // A rule without matches takes everything: rules after it are never used.
      if (catchAllSeen) f.unreachableRule(ruleName(r, i, http), 'only the last rule can have no matches');
      catchAllSeen = true;
      return;
    }
    let duplicates = 0;
    matches.forEach((match, j) => {
      if (catchAllSeen) {
        // An earlier rule without matches already takes every request.
        f.unreachableRule(ruleName(r, i, http), 'an earlier rule has no matches');
        return;
      }
      const key = matchKey(match, http);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        f.ineffectiveMatch(ruleName(r, i, http), matchName(match, j, http), ruleName(routes[earlier], earlier, http));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const m = http ? obj(match) : undefined;
      const pm = m && toPrefixMatch(r, i, m, j);
      if (pm) prefixMatches.push(pm);
    });
    if (duplicates === matches.length) f.unreachableRule(ruleName(r, i, http), 'all its matches are used by earlier rules');
  });

  // A shorter URI prefix earlier in the list also takes the longer prefixes after it.
  for (let a = 0; a < prefixMatches.length; a++) {
    for (let b = a + 1; b < prefixMatches.length; b++) {
      const earlier = prefixMatches[a], later = prefixMatches[b];
      if (later.prefix === earlier.prefix) continue; // exact duplicates were reported above
      if (covers(earlier, later)) {
        f.ineffectiveMatch(later.rule, `${later.match} of prefix ${later.prefix}`, `${earlier.match} of prefix ${earlier.prefix} on ${earlier.rule}`);
      }
    }
  }
}
