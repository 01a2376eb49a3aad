import type { FieldPath, Resource } from '../../../../api/resource.js';
import { checkDuration } from './check-durations.js';
import { checkStrictHeaderName } from './check-headers.js';
import { checkPolicySelection } from './check-selectors.js';
import type { Findings } from './findings.js';
import { list, obj, str, type Obj } from './yaml-values.js';

// RequestAuthentication rules (Istio's ValidateRequestAuthentication): selector or targetRefs,
// and JWT rules with an issuer, an http(s) JWKS URI or a parseable inline JWKS, named token
// locations and valid claim-to-header outputs.

export function validateRequestAuthentication(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  checkPolicySelection(f, spec);
  list(spec.jwtRules).forEach((rule, i) => checkJwtRule(f, ['spec', 'jwtRules', i], obj(rule)));
}

function checkJwtRule(f: Findings, p: FieldPath, rule: Obj | undefined): void {
  if (!rule) return;
  list(rule.audiences).forEach((a, i) => {
    if (str(a) === '') f.error([...p, 'audiences', i], 'audience must not be empty');
  });
  if (str(rule.issuer) === '' && str(rule.jwksUri) === '') f.error(p, 'a JWT rule needs an issuer or a jwksUri');
  const uri = str(rule.jwksUri);
  if (uri !== '') {
    const err = jwksUriError(uri);
    if (err) f.error([...p, 'jwksUri'], err);
  }
  const jwks = str(rule.jwks);
  if (jwks !== '') {
    const err = jwksError(jwks);
    if (err) f.error([...p, 'jwks'], `jwks cannot be parsed: ${err}`);
  }
  list(rule.fromHeaders).forEach((h, i) => {
    const hp = [...p, 'fromHeaders', i];
    if (!obj(h)) return f.error(hp, 'header location must not be null');
    if (str(obj(h)?.name) === '') f.error(hp, 'header location needs a name');
  });
  list(rule.fromParams).forEach((q, i) => {
    if (str(q) === '') f.error([...p, 'fromParams', i], 'query parameter location must not be empty');
  });
  list(rule.fromCookies).forEach((c, i) => {
    if (str(c) === '') f.error([...p, 'fromCookies', i], 'cookie name must not be empty');
  });
  list(rule.outputClaimToHeaders).forEach((raw, i) => {
    const op = [...p, 'outputClaimToHeaders', i];
    const o = obj(raw);
    if (!o) return f.error(op, 'outputClaimToHeaders entry must not be null');
    if (str(o.claim) === '' || str(o.header) === '') return f.error(op, 'outputClaimToHeaders needs both claim and header');
    const err = checkStrictHeaderName(str(o.header));
    if (err) f.error([...op, 'header'], err);
  });
  checkDuration(f, [...p, 'timeout'], rule.timeout);
}

/** Envoy fetches JWKS over http or https only. */
function jwksUriError(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `jwksUri "${uri}" is not a valid URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `jwksUri scheme "${u.protocol.replace(/:$/, '')}" is not supported (use http or https)`;
  return undefined;
}

/** An inline JWKS: a JSON key set (`{"keys": [...]}`) or a single JSON key, each key with a `kty`. */
function jwksError(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  const o = obj(parsed);
  if (!o) return 'not a JSON object';
  const keys = Array.isArray(o.keys) ? o.keys : [o];
  if (keys.some((k) => typeof obj(k)?.kty !== 'string')) return 'a key has no "kty"';
  return undefined;
}
