import type { FieldPath } from '../../../../api/resource.js';
import type { Findings } from './findings.js';
import { entries, list, obj, str } from './yaml-values.js';

// Header names: any HTTP token character (RFC 7230) where Envoy matches or sets them; only
// letters, digits and '-' where they become Envoy config keys (claim outputs, probe headers).
const tokenHeaderNameRe = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const strictHeaderNameRe = /^[-A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);

export function checkHeaderName(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  return tokenHeaderNameRe.test(name) ? undefined : `"${name}" is not a valid header name`;
}

/** Header names that must be plain letters, digits and dashes. */
export function checkStrictHeaderName(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  return strictHeaderNameRe.test(name) ? undefined : `"${name}" is not a valid header name (letters, digits and '-' only)`;
}

/** Header names used for routing may also be JWT claims: `@request.auth.claims.sub`, `@request.auth.claims[sub]`. */
export function isJwtClaimRoute(name: string): boolean {
  const prefix = '@request.auth.claims';
  if (!name.toLowerCase().startsWith(prefix)) return false;
  const rest = name.slice(prefix.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** Match headers: a JWT claim, an HTTP/2 pseudo-header, or a token. */
export function checkHeaderNameOrJwtClaim(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return checkHeaderName(name);
}

const isInternalHeader = (k: string) => k.startsWith(':') || k.toLowerCase() === 'host';
export const isAuthorityHeader = (k: string) => k.toLowerCase() === ':authority' || k.toLowerCase() === 'host';

/** Request headers that are added or set may rewrite the authority, but no other pseudo-header. */
export function checkRequestHeaderToSet(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `header "${name}" cannot be changed: it is a pseudo-header`;
  return undefined;
}

/** Headers that are removed, and response headers, may not be pseudo-headers or Host. */
export function checkHeaderToChange(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.toLowerCase() === 'host') return `header "${name}" cannot be changed: Host cannot be set this way`;
  if (isInternalHeader(name)) return `header "${name}" cannot be changed: it is a pseudo-header`;
  return undefined;
}

// eslint-disable-next-line no-control-regex
const headerValueRe = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;

/** Envoy header values: no control characters, and `%` starts a `%VARIABLE%` (`%%` is a literal %). */
export function checkHeaderValue(value: string): string | undefined {
  if (!headerValueRe.test(value)) return `header value "${value}" contains control characters`;
  const err = envoyHeaderFormatError(value);
  return err ? `header value "${value}" is invalid: ${err}` : undefined;
}

/** A small state machine over Envoy's `%VAR%` / `%VAR(args)%` syntax, as Envoy's header parser reads it. */
function envoyHeaderFormatError(v: string): string | undefined {
  type State = 'literal' | 'name' | 'array' | 'string' | 'inString' | 'delim' | 'argsEnd' | 'varEnd';
  let state: State = 'literal';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (i + 1 >= v.length) return 'unescaped % at the end (write %% for a literal %)';
        if (v[i + 1] === '%') i++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string';
        else if (ch !== ' ') state = 'inString';
        break;
      case 'delim':
        if (ch === ',') state = 'string';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "expected ',', ']' or a space";
        break;
      case 'string':
        if (ch === '"') state = 'inString';
        else if (ch !== ' ') return 'expected \'"\'';
        break;
      case 'inString':
        if (ch === '\\') {
          if (i + 1 >= v.length) return 'unterminated backslash in an argument string';
          i++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delim';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "expected ')' or a space";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "expected '%' or a space";
        break;
    }
  }
  return state === 'literal' ? undefined : 'unterminated %VARIABLE% expression';
}

/** Header manipulation blocks (`headers.request`/`headers.response` with set, add, remove). */
export function checkHeaderOperations(f: Findings, path: FieldPath, headers: unknown): void {
  const h = obj(headers);
  if (!h) return;
  for (const dir of ['request', 'response'] as const) {
    const ops = obj(h[dir]);
    if (!ops) continue;
    for (const op of ['add', 'set'] as const) {
      for (const [name, val] of entries(ops[op])) {
        const p = [...path, dir, op, name];
        const nameErr = dir === 'request' ? checkRequestHeaderToSet(name) : checkHeaderToChange(name);
        if (nameErr) f.error(p, nameErr);
        const valErr = checkHeaderValue(String(val ?? ''));
        if (valErr) f.error(p, valErr);
      }
    }
    list(ops.remove).forEach((name, i) => {
      const err = checkHeaderToChange(str(name));
      if (err) f.error([...path, dir, 'remove', i], err);
    });
  }
}
