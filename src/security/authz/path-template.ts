import { compileValue, type StringPredicate } from './value-match.js';

// AuthorizationPolicy `paths` (Istio 1.16+): a value with `{*}` (exactly one path segment) or
// `{**}` (any number of segments, one or more characters, only as the last operator) is a URI
// template, as Envoy's uri_template matcher; anything else is the usual exact / `prefix*` /
// `*suffix` / `*`. Paths are compared without their query string.

export function isPathTemplate(p: string): boolean {
  return p.includes('{*}') || p.includes('{**}');
}

export function compilePath(pattern: string): StringPredicate {
  if (!isPathTemplate(pattern)) return compileValue(pattern);
  let re = '^';
  for (const piece of pattern.split(/(\{\*\*\}|\{\*\})/)) {
    if (piece === '{*}') re += '[^/]+';
    else if (piece === '{**}') re += '.+';
    else re += piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`${re}$`);
  return (v) => rx.test(v);
}
