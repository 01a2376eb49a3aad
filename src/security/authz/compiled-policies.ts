import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '../../api/snapshot.js';
import { compilePath } from './path-template.js';
import { compileIpBlocks, compileValues, type StringPredicate } from './value-match.js';

// AuthorizationPolicies compiled once per snapshot into predicates over one request's facts,
// and evaluated in Istio's order: DENY first (any matching DENY policy denies), then ALLOW (when
// any ALLOW policy applies to the workload, a request that matches none is denied). AUDIT never
// changes the decision; it is reported. A policy matches when any of its rules does; a rule when
// all of its `from`, `to` and `when` hold; `from` / `to` entries are alternatives; the fields of
// one source or operation must all hold; values of a field are alternatives, and a `not` field
// holds when none of its values matches. An ALLOW policy without rules allows nothing; a DENY
// policy without rules denies nothing; a rule `{}` matches every request.

/** What the RBAC filter knows of a request. */
export interface AuthzRequest {
  /** Peer principal from mutual TLS (`cluster.local/ns/x/sa/y`), '' for plaintext. */
  readonly principal: string;
  readonly sourceIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly method: string;
  /** Authority as sent (lower case). */
  readonly host: string;
  /** Path without the query string. */
  readonly path: string;
  header(name: string): string | undefined;
  /** `iss/sub` of a validated JWT (RequestAuthentication), '' when there is none. */
  readonly requestPrincipal: string;
  /** A claim of the validated JWT, by path (`['groups']`, `['nested', 'key']`): its values as strings. */
  claim(path: readonly string[]): string[] | undefined;
  readonly sni: string;
}

type Pred = (r: AuthzRequest) => boolean;

export interface CompiledPolicy {
  /** Envoy's RBAC policy id as Istio names it: `ns[<ns>]-policy[<name>]-rule[<i>]` (the rule is added on a match). */
  readonly id: string;
  readonly action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** One predicate per rule. */
  readonly rules: Pred[];
}

export interface AuthzDecision {
  allowed: boolean;
  /** The policy rule that decided (`ns[x]-policy[y]-rule[0]`), or `none` for an ALLOW set nobody matched, '' when nothing applied. */
  matched: string;
  /** Matching AUDIT rule ids (audit logging). */
  audited?: string[];
}

export class CompiledAuthorization {
  readonly deny: CompiledPolicy[] = [];
  readonly allow: CompiledPolicy[] = [];
  readonly audit: CompiledPolicy[] = [];
  /** Conditions with keys the local mesh cannot evaluate (they never match), for logs. */
  readonly unsupported: string[] = [];

  constructor(policies: readonly AuthzPolicy[]) {
    for (const p of policies) {
      const c: CompiledPolicy = { id: `ns[${p.namespace}]-policy[${p.name}]`, action: p.action, rules: (p.rules ?? []).map((r) => this.rule(r)) };
      (p.action === 'DENY' ? this.deny : p.action === 'AUDIT' ? this.audit : this.allow).push(c);
    }
  }

  get empty(): boolean {
    return this.deny.length === 0 && this.allow.length === 0 && this.audit.length === 0;
  }

  evaluate(r: AuthzRequest): AuthzDecision {
    let audited: string[] | undefined;
    for (const p of this.audit) {
      const i = firstMatch(p, r);
      if (i >= 0) (audited ??= []).push(`${p.id}-rule[${i}]`);
    }
    for (const p of this.deny) {
      const i = firstMatch(p, r);
      if (i >= 0) return { allowed: false, matched: `${p.id}-rule[${i}]`, ...(audited && { audited }) };
    }
    if (this.allow.length === 0) return { allowed: true, matched: '', ...(audited && { audited }) };
    for (const p of this.allow) {
      const i = firstMatch(p, r);
      if (i >= 0) return { allowed: true, matched: `${p.id}-rule[${i}]`, ...(audited && { audited }) };
    }
    return { allowed: false, matched: 'none', ...(audited && { audited }) };
  }

  private rule(rule: AuthzRule): Pred {
    const parts: Pred[] = [];
    if (rule.from?.length) parts.push(anyOf(rule.from.map((f) => source(f?.source ?? {}))));
    if (rule.to?.length) parts.push(anyOf(rule.to.map((t) => operation(t?.operation ?? {}))));
    for (const c of rule.when ?? []) parts.push(this.condition(c));
    return allOf(parts);
  }

  private condition(c: AuthzCondition): Pred {
    const get = factOf(c.key);
    if (!get) {
      this.unsupported.push(c.key);
      return () => false;
    }
    const key = c.key;
    const ipKey = key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip';
    const values = ipKey ? compileIpBlocks(c.values) : compileValues(c.values);
    const notValues = ipKey ? compileIpBlocks(c.notValues) : compileValues(c.notValues);
    return (r) => {
      const facts = get(r);
      if (values && !facts.some(values)) return false;
      if (notValues && facts.some(notValues)) return false;
      return true;
    };
  }
}

function firstMatch(p: CompiledPolicy, r: AuthzRequest): number {
  for (let i = 0; i < p.rules.length; i++) if (p.rules[i](r)) return i;
  return -1;
}

function allOf(ps: Pred[]): Pred {
  if (ps.length === 0) return () => true;
  if (ps.length === 1) return ps[0];
  return (r) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i](r)) return false;
    return true;
  };
}

function anyOf(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0];
  return (r) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](r)) return true;
    return false;
  };
}

/** A field and its `not` form over one fact. */
function field(parts: Pred[], yes: StringPredicate | undefined, no: StringPredicate | undefined, fact: (r: AuthzRequest) => string): void {
  if (yes) parts.push((r) => yes(fact(r)));
  if (no) parts.push((r) => !no(fact(r)));
}

/** The namespace of a principal `td/ns/<ns>/sa/<sa>` ('' when there is none). */
export function namespaceOfPrincipal(p: string): string {
  const i = p.indexOf('/ns/');
  if (i < 0) return '';
  const rest = p.slice(i + 4);
  const j = rest.indexOf('/');
  return j < 0 ? rest : rest.slice(0, j);
}

function serviceAccountOfPrincipal(p: string): string {
  const ns = namespaceOfPrincipal(p);
  const i = p.indexOf('/sa/');
  return ns && i >= 0 ? `${ns}/${p.slice(i + 4)}` : '';
}

function source(s: AuthzSource): Pred {
  const parts: Pred[] = [];
  field(parts, compileValues(s.principals), compileValues(s.notPrincipals), (r) => r.principal);
  field(parts, compileValues(s.requestPrincipals), compileValues(s.notRequestPrincipals), (r) => r.requestPrincipal);
  field(parts, compileValues(s.namespaces), compileValues(s.notNamespaces), (r) => namespaceOfPrincipal(r.principal));
  field(parts, compileIpBlocks(s.ipBlocks), compileIpBlocks(s.notIpBlocks), (r) => r.sourceIp);
  // No proxy in front of the local mesh: the original client is the direct peer.
  field(parts, compileIpBlocks(s.remoteIpBlocks), compileIpBlocks(s.notRemoteIpBlocks), (r) => r.sourceIp);
  return allOf(parts);
}

/** Istio compares hosts case-insensitively, with or without the authority's port. */
function hostMatcher(values: readonly string[] | undefined): StringPredicate | undefined {
  const m = compileValues(values, true);
  if (!m) return undefined;
  return (authority) => {
    if (m(authority)) return true;
    const colon = authority.lastIndexOf(':');
    return colon > 0 && authority.indexOf(']', colon) < 0 && m(authority.slice(0, colon));
  };
}

function pathMatcher(values: readonly string[] | undefined): StringPredicate | undefined {
  if (!values || values.length === 0) return undefined;
  const ps = values.map((v) => compilePath(String(v)));
  return (v) => ps.some((p) => p(v));
}

function operation(o: AuthzOperation): Pred {
  const parts: Pred[] = [];
  field(parts, hostMatcher(o.hosts), hostMatcher(o.notHosts), (r) => r.host);
  field(parts, compileValues(o.ports), compileValues(o.notPorts), (r) => String(r.destinationPort));
  field(parts, compileValues(o.methods), compileValues(o.notMethods), (r) => r.method);
  field(parts, pathMatcher(o.paths), pathMatcher(o.notPaths), (r) => r.path);
  return allOf(parts);
}

/** The facts behind a `when` key (Istio's list), as strings; undefined for a key the local mesh cannot evaluate. */
function factOf(key: string): ((r: AuthzRequest) => string[]) | undefined {
  const one = (f: (r: AuthzRequest) => string) => (r: AuthzRequest) => {
    const v = f(r);
    return v === '' ? [] : [v];
  };
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) {
    const name = header[1].toLowerCase();
    return (r) => {
      const v = r.header(name);
      return v === undefined ? [] : [v];
    };
  }
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim) {
    const path = [...claim[1].matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]);
    return (r) => r.claim(path) ?? [];
  }
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
      return one((r) => r.sourceIp);
    case 'source.namespace':
      return one((r) => namespaceOfPrincipal(r.principal));
    case 'source.principal':
      return one((r) => r.principal);
    case 'source.serviceAccount':
      return one((r) => serviceAccountOfPrincipal(r.principal));
    case 'destination.ip':
      return one((r) => r.destinationIp);
    case 'destination.port':
      return one((r) => String(r.destinationPort));
    case 'connection.sni':
      return one((r) => r.sni);
    case 'request.auth.principal':
      return one((r) => r.requestPrincipal);
    case 'request.auth.audiences':
      return (r) => r.claim(['aud']) ?? [];
    case 'request.auth.presenter':
      return (r) => r.claim(['azp']) ?? [];
    default:
      return undefined;
  }
}
