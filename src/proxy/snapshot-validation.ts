import type { ProxySnapshot } from '../api/snapshot.js';
import { translateRe2 } from './routing/regex.js';
import { stringMatchKind } from './routing/string-match.js';
import { domainError } from './routing/virtual-hosts.js';
import { CompiledAuthorization } from '../security/authz/compiled-policies.js';

// Checks a snapshot before anything of it runs (the NACK path): shape, references between
// listeners, route configs and clusters, regexes, weights, ports, statuses. Every problem is
// reported with its path; one is enough to reject the whole snapshot.

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
const LB_POLICIES = new Set(['LEAST_REQUEST', 'ROUND_ROBIN', 'RANDOM', 'RING_HASH', 'MAGLEV', 'PASSTHROUGH']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export function validateSnapshot(s: unknown, expectedNodeId?: string): string[] {
  const errors: string[] = [];
  const err = (path: string, msg: string) => errors.push(`${path}: ${msg}`);
  if (!isObj(s)) return ['snapshot: not an object'];
  if (typeof s.version !== 'string') err('version', 'must be a string');
  if (!isObj(s.node) || typeof s.node.id !== 'string' || !isObj(s.node.labels) || typeof s.node.namespace !== 'string') err('node', 'must have id, namespace and labels');
  else if (expectedNodeId !== undefined && s.node.id !== expectedNodeId) err('node.id', `snapshot is for "${s.node.id}", this proxy is "${expectedNodeId}"`);
  for (const k of ['listeners', 'routes', 'clusters', 'endpoints']) if (!Array.isArray(s[k])) err(k, 'must be an array');
  if (errors.length) return errors;
  const snap = s as ProxySnapshot;

  // Security: policies that do not compile (and unknown mTLS modes) are a NACK, not a crash at the listener.
  const authz = snap.authorization?.policies;
  if (authz !== undefined) {
    if (!Array.isArray(authz)) err('authorization.policies', 'must be an array');
    else {
      try {
        new CompiledAuthorization(authz);
      } catch (e) {
        err('authorization.policies', `do not compile: ${(e as Error).message}`);
      }
    }
  }
  const jwtRules = snap.requestAuthentication?.rules;
  if (jwtRules !== undefined && (!Array.isArray(jwtRules) || jwtRules.some((r) => !isObj(r) || typeof r.issuer !== 'string'))) err('requestAuthentication.rules', 'must be rules with an issuer');
  snap.listeners.forEach((l: Obj, i) => {
    if (isObj(l) && l.mtls !== undefined && (!isObj(l.mtls) || (l.mtls.mode !== 'STRICT' && l.mtls.mode !== 'PERMISSIVE'))) err(`listeners[${i}].mtls`, 'mode must be STRICT or PERMISSIVE');
  });

  const routeNames = uniqueNames(snap.routes, 'routes', err);
  const clusterNames = uniqueNames(snap.clusters, 'clusters', err);
  uniqueNames(snap.listeners, 'listeners', err);

  const bound = new Set<string>();
  snap.listeners.forEach((l: Obj, i) => {
    const p = `listeners[${i}]`;
    if (!isObj(l)) return err(p, 'not an object');
    if (typeof l.address !== 'string' || l.address === '') err(`${p}.address`, 'must be an address');
    if (!isPort(l.port)) err(`${p}.port`, `invalid port ${JSON.stringify(l.port)}`);
    if (l.direction !== 'inbound' && l.direction !== 'outbound') err(`${p}.direction`, 'must be inbound or outbound');
    const where = `${l.address}:${l.port}`;
    if (bound.has(where)) err(p, `address ${where} is used by another listener`);
    bound.add(where);
    if (l.protocol === 'http') {
      if (l.routeConfigName !== undefined) {
        if (!routeNames.has(l.routeConfigName)) err(`${p}.routeConfigName`, `route config "${l.routeConfigName}" does not exist`);
      } else if (l.direction === 'inbound') {
        if (!clusterNames.has(`inbound|${l.port}||`)) err(p, `inbound listener without routeConfigName needs cluster "inbound|${l.port}||"`);
      } else err(`${p}.routeConfigName`, 'an outbound http listener needs a route config');
    } else if (l.protocol === 'tcp') {
      if (typeof l.tcpCluster !== 'string') err(`${p}.tcpCluster`, 'a tcp listener needs a cluster');
      else if (!clusterNames.has(l.tcpCluster)) err(`${p}.tcpCluster`, `cluster "${l.tcpCluster}" does not exist`);
    } else err(`${p}.protocol`, 'must be http or tcp');
  });

  snap.routes.forEach((rc: Obj, i) => {
    const p = `routes[${i}]`;
    if (!isObj(rc) || !Array.isArray(rc.virtualHosts)) return err(p, 'must have virtualHosts');
    const domains = new Set<string>();
    rc.virtualHosts.forEach((vh: Obj, j: number) => {
      const vp = `${p}.virtualHosts[${j}]`;
      if (!isObj(vh) || !Array.isArray(vh.domains) || !Array.isArray(vh.routes)) return err(vp, 'must have domains and routes');
      for (const d of vh.domains) {
        if (typeof d !== 'string') {
          err(`${vp}.domains`, 'domains must be strings');
          continue;
        }
        const de = domainError(d);
        if (de) err(`${vp}.domains`, de);
        if (domains.has(d.toLowerCase())) err(`${vp}.domains`, `domain "${d}" appears in more than one virtual host of "${rc.name}"`);
        domains.add(d.toLowerCase());
      }
      vh.routes.forEach((r: Obj, k: number) => validateRoute(r, `${vp}.routes[${k}]`, err));
    });
  });

  snap.clusters.forEach((c: Obj, i) => {
    const p = `clusters[${i}]`;
    if (!isObj(c)) return err(p, 'not an object');
    if (!LB_POLICIES.has(c.lbPolicy)) err(`${p}.lbPolicy`, `unknown load balancer "${c.lbPolicy}"`);
    if (c.ringSize !== undefined && !(Number.isInteger(c.ringSize) && c.ringSize > 0 && c.ringSize <= 8_388_608)) err(`${p}.ringSize`, 'must be an integer in 1..8388608');
    if (c.hashPolicy !== undefined) {
      const h = c.hashPolicy;
      const set = isObj(h) ? ['header', 'cookie', 'sourceIp', 'queryParameter'].filter((k) => h[k] !== undefined && h[k] !== false) : [];
      if (set.length !== 1) err(`${p}.hashPolicy`, 'must set exactly one of header, cookie, sourceIp, queryParameter');
      if (isObj(h) && h.cookie !== undefined && (!isObj(h.cookie) || typeof h.cookie.name !== 'string' || h.cookie.name === '')) err(`${p}.hashPolicy.cookie`, 'needs a name');
      if (isObj(h) && isObj(h.cookie) && h.cookie.ttlMs !== undefined && !(Number.isFinite(h.cookie.ttlMs) && h.cookie.ttlMs >= 0)) err(`${p}.hashPolicy.cookie.ttlMs`, 'must be >= 0');
    }
  });

  const assigned = new Set<string>();
  snap.endpoints.forEach((cla: Obj, i) => {
    const p = `endpoints[${i}]`;
    if (!isObj(cla) || typeof cla.clusterName !== 'string' || !Array.isArray(cla.endpoints)) return err(p, 'must have clusterName and endpoints');
    if (!clusterNames.has(cla.clusterName)) err(`${p}.clusterName`, `cluster "${cla.clusterName}" does not exist`);
    if (assigned.has(cla.clusterName)) err(`${p}.clusterName`, `cluster "${cla.clusterName}" has more than one endpoint list`);
    assigned.add(cla.clusterName);
    cla.endpoints.forEach((e: Obj, j: number) => {
      const ep = `${p}.endpoints[${j}]`;
      if (!isObj(e)) return err(ep, 'not an object');
      if (typeof e.socketPath === 'string' && e.socketPath !== '') return;
      if (typeof e.address !== 'string' || e.address === '') err(`${ep}.address`, 'needs an address or a socketPath');
      if (!isPort(e.port)) err(`${ep}.port`, `invalid port ${JSON.stringify(e.port)}`);
      if (e.weight !== undefined && !(Number.isInteger(e.weight) && e.weight > 0)) err(`${ep}.weight`, 'must be a positive integer');
    });
  });
  return errors;
}

function uniqueNames(items: Obj[], what: string, err: (p: string, m: string) => void): Set<string> {
  const names = new Set<string>();
  items.forEach((it, i) => {
    if (!isObj(it) || typeof it.name !== 'string' || it.name === '') return err(`${what}[${i}].name`, 'must be a non-empty string');
    if (names.has(it.name)) err(`${what}[${i}].name`, `duplicate name "${it.name}"`);
    names.add(it.name);
  });
  return names;
}

function validateRoute(r: Obj, p: string, err: (p: string, m: string) => void): void {
  if (!isObj(r)) return err(p, 'not an object');
  if (!Array.isArray(r.match)) err(`${p}.match`, 'must be an array');
  else r.match.forEach((m: Obj, i: number) => validateMatch(m, `${p}.match[${i}]`, err));
  validateHeaders(r.headers, `${p}.headers`, err);
  const a = r.action;
  if (!isObj(a)) return err(`${p}.action`, 'missing');
  if (a.kind === 'route') {
    if (!Array.isArray(a.destinations) || a.destinations.length === 0) return err(`${p}.action.destinations`, 'needs at least one destination');
    let total = 0;
    a.destinations.forEach((d: Obj, i: number) => {
      const dp = `${p}.action.destinations[${i}]`;
      if (!isObj(d) || typeof d.cluster !== 'string' || d.cluster === '') return err(dp, 'needs a cluster');
      if (!(Number.isInteger(d.weight) && d.weight >= 0 && d.weight <= 100)) err(`${dp}.weight`, `invalid weight ${JSON.stringify(d.weight)} (0..100)`);
      else total += d.weight;
      validateHeaders(d.headers, `${dp}.headers`, err);
    });
    if (a.destinations.length > 1 && total === 0) err(`${p}.action.destinations`, 'weights add up to 0');
    const rw = a.rewrite;
    if (rw !== undefined && isObj(rw) && rw.uriRegexRewrite !== undefined) {
      const rr = rw.uriRegexRewrite;
      if (!isObj(rr) || typeof rr.match !== 'string' || typeof rr.rewrite !== 'string') err(`${p}.action.rewrite.uriRegexRewrite`, 'needs match and rewrite');
      else regex(rr.match, `${p}.action.rewrite.uriRegexRewrite.match`, err);
    }
    if (a.mirror !== undefined) {
      if (!isObj(a.mirror) || typeof a.mirror.cluster !== 'string') err(`${p}.action.mirror`, 'needs a cluster');
      else if (!(typeof a.mirror.percentage === 'number' && a.mirror.percentage >= 0 && a.mirror.percentage <= 100)) err(`${p}.action.mirror.percentage`, 'must be in 0..100');
    }
  } else if (a.kind === 'redirect') {
    if (!REDIRECT_CODES.has(a.status)) err(`${p}.action.status`, `redirect status ${a.status} is not one of 301, 302, 303, 307, 308`);
    if (a.port !== undefined && !isPort(a.port)) err(`${p}.action.port`, `invalid port ${JSON.stringify(a.port)}`);
  } else if (a.kind === 'direct') {
    if (!(Number.isInteger(a.status) && a.status >= 200 && a.status <= 599)) err(`${p}.action.status`, 'must be in 200..599');
  } else err(`${p}.action.kind`, `unknown action "${a.kind}"`);
}

function validateMatch(m: Obj, p: string, err: (p: string, m: string) => void): void {
  if (!isObj(m)) return err(p, 'not an object');
  for (const f of ['uri', 'scheme', 'method', 'authority']) if (m[f] !== undefined) stringMatch(m[f], `${p}.${f}`, err);
  for (const f of ['headers', 'withoutHeaders']) {
    if (m[f] === undefined) continue;
    if (!isObj(m[f])) {
      err(`${p}.${f}`, 'must be a map');
      continue;
    }
    for (const [k, v] of Object.entries(m[f] as Obj)) if (!(isObj(v) && v.present === true)) stringMatch(v, `${p}.${f}.${k}`, err);
  }
  if (m.queryParams !== undefined) {
    for (const [k, v] of Object.entries(m.queryParams as Obj)) {
      if (isObj(v) && v.present === true) continue;
      const kind = stringMatch(v, `${p}.queryParams.${k}`, err);
      if (kind === 'prefix') err(`${p}.queryParams.${k}`, 'query parameters match exact or regex only');
    }
  }
  if (m.port !== undefined && !isPort(m.port)) err(`${p}.port`, `invalid port ${JSON.stringify(m.port)}`);
}

function stringMatch(v: unknown, p: string, err: (p: string, m: string) => void): string | undefined {
  const kind = stringMatchKind(v);
  if (!kind) {
    err(p, 'must be one of {exact}, {prefix}, {regex} with a string');
    return undefined;
  }
  if (kind === 'regex') regex((v as { regex: string }).regex, `${p}.regex`, err);
  return kind;
}

function regex(re: string, p: string, err: (p: string, m: string) => void): void {
  const t = translateRe2(re);
  if (!t.ok) err(p, `invalid regex "${re}": ${t.error}`);
}

function validateHeaders(h: unknown, p: string, err: (p: string, m: string) => void): void {
  if (h === undefined) return;
  if (!isObj(h)) return err(p, 'must be an object');
  for (const side of ['request', 'response']) {
    const ops = h[side];
    if (ops === undefined) continue;
    if (!isObj(ops)) {
      err(`${p}.${side}`, 'must be an object');
      continue;
    }
    for (const k of ['set', 'add']) if (ops[k] !== undefined && (!isObj(ops[k]) || Object.values(ops[k]).some((v) => typeof v !== 'string'))) err(`${p}.${side}.${k}`, 'must map names to strings');
    if (ops.remove !== undefined && (!Array.isArray(ops.remove) || ops.remove.some((v: unknown) => typeof v !== 'string'))) err(`${p}.${side}.remove`, 'must be a list of names');
  }
}
