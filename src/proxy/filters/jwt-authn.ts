import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtRule } from '../../api/snapshot.js';
import type { HttpStream } from '../http-stream.js';
import { sendLocalReply } from '../router/local-reply.js';
import { ResponseFlag } from '../response-flags.js';
import { continueFilterChain } from './filter-chain.js';
import { Continue, Stop, type FilterStatus, type HttpFilter, type HttpFilterFactory } from './http-filter.js';
import { setRequestAuth } from './rbac.js';

// Istio's RequestAuthentication, as Envoy's jwt_authn filter runs it on inbound listeners: a
// request without a token passes (it just has no request principal; an AuthorizationPolicy with
// `requestPrincipals` decides); a request with a token must carry a valid one from a listed
// issuer (signature by the issuer's JWKS, `exp`/`nbf`, audiences when listed), else 401 `Jwt
// verification fails`. A valid token makes `iss/sub` the request principal and its claims
// readable by AuthorizationPolicy `when` keys. The token is taken from `Authorization: Bearer`
// unless the rule names `fromHeaders` / `fromParams`; it is removed before the application
// unless `forwardOriginalToken`. Key sets are built per snapshot (a remote one is fetched on
// first use and cached by jose).

interface CompiledRule {
  rule: JwtRule;
  keys: JWTVerifyGetKey | null;
}

const FAILS = { status: 401, flag: ResponseFlag.None, details: 'jwt_authn_access_denied{Jwt_verification_fails}', body: 'Jwt verification fails' } as const;

function compile(rule: JwtRule): CompiledRule {
  try {
    if (rule.jwks) return { rule, keys: createLocalJWKSet(JSON.parse(rule.jwks)) };
    if (rule.jwksUri) return { rule, keys: createRemoteJWKSet(new URL(rule.jwksUri), { timeoutDuration: 5000 }) };
  } catch {
    // An unusable JWKS: every token of this issuer fails, as Envoy's.
  }
  return { rule, keys: null };
}

/** The token a rule reads from a request, and how to remove it. */
function extract(s: HttpStream, rule: JwtRule): { token: string; remove: () => void } | null {
  const headers = rule.fromHeaders?.length ? rule.fromHeaders : rule.fromParams?.length ? [] : [{ name: 'authorization', prefix: 'Bearer ' }];
  for (const h of headers) {
    const v = s.headers[h.name];
    const text = Array.isArray(v) ? v[0] : v;
    if (typeof text !== 'string') continue;
    const prefix = h.prefix ?? '';
    if (!text.startsWith(prefix)) continue;
    return { token: text.slice(prefix.length).trim(), remove: () => void delete s.headers[h.name] };
  }
  for (const p of rule.fromParams ?? []) {
    const v = s.queryParam(p);
    if (v !== undefined) return { token: decodeURIComponent(v), remove: () => undefined };
  }
  return null;
}

function claimOf(payload: JWTPayload, path: readonly string[]): string[] | undefined {
  let v: unknown = payload;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' && path.length === 1 && path[0] === 'scope' ? v.split(' ') : [String(v)];
}

class JwtAuthnFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.jwt_authn';
  constructor(
    private readonly rules: CompiledRule[],
    private readonly stats: { inc(name: string): void },
  ) {}

  onRequest(s: HttpStream): FilterStatus {
    let found: { token: string; remove: () => void } | null = null;
    let issuer = '';
    for (const r of this.rules) {
      found = extract(s, r.rule);
      if (found) break;
    }
    if (found === null) return Continue; // no token: no request principal, authorization decides
    try {
      issuer = decodeJwt(found.token).iss ?? '';
    } catch {
      return this.deny(s);
    }
    const rule = this.rules.find((r) => r.rule.issuer === issuer);
    if (!rule || rule.keys === null) return this.deny(s);
    const token = found;
    jwtVerify(token.token, rule.keys, { issuer, ...(rule.rule.audiences?.length && { audience: rule.rule.audiences }) }).then(
      ({ payload }) => {
        if (s.completed) return;
        this.stats.inc('jwt_authn.allowed');
        setRequestAuth(s, { principal: `${payload.iss}/${payload.sub ?? ''}`, claim: (path) => claimOf(payload, path) });
        if (!rule.rule.forwardOriginalToken) token.remove();
        continueFilterChain(s);
      },
      () => {
        if (!s.completed) this.deny(s);
      },
    );
    return Stop;
  }

  private deny(s: HttpStream): FilterStatus {
    this.stats.inc('jwt_authn.denied');
    sendLocalReply(s, FAILS, ['www-authenticate', 'Bearer realm="meshmedic"']);
    return Stop;
  }
}

/** Inbound listeners of a workload a RequestAuthentication selects. */
export const jwtAuthnFilter: HttpFilterFactory = (listener, ctx) => {
  if (listener.direction !== 'inbound') return null;
  const rules = ctx.current?.snapshot.requestAuthentication?.rules;
  if (!rules || rules.length === 0) return null;
  return new JwtAuthnFilter(rules.map(compile), ctx.stats);
};
