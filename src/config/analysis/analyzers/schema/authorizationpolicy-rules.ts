import type { FieldPath, Resource } from '../../../../api/resource.js';
import { isCIDR, isIPAddress } from './check-ip-addresses.js';
import { checkPolicySelection } from './check-selectors.js';
import type { Findings } from './findings.js';
import { isSet, list, obj, str, type Obj } from './yaml-values.js';

// AuthorizationPolicy rules (Istio's ValidateAuthorizationPolicy): selector or targetRefs, a
// provider only for CUSTOM, rules for DENY/CUSTOM, non-empty sources and operations, valid
// IPs, ports, path templates and `when` conditions. Also warns when a DENY rule uses only
// HTTP attributes, since it then denies all TCP traffic.

const SOURCE_FIELDS = ['principals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'remoteIpBlocks', 'serviceAccounts',
  'notPrincipals', 'notRequestPrincipals', 'notNamespaces', 'notIpBlocks', 'notRemoteIpBlocks', 'notServiceAccounts'];
// Source fields that also work for plain TCP traffic.
const TCP_SOURCE_FIELDS = ['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces',
  'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'];
const SERVICE_ACCOUNT_FIELDS = ['serviceAccounts', 'notServiceAccounts'];
const OPERATION_FIELDS = ['ports', 'methods', 'paths', 'hosts', 'notPorts', 'notMethods', 'notPaths', 'notHosts'];
const IP_FIELDS = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'];

export function validateAuthorizationPolicy(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  checkPolicySelection(f, spec);
  const action = str(spec.action) || 'ALLOW';
  const rules = list(spec.rules);
  const hasRules = rules.length > 0;

  if (action === 'CUSTOM') {
    if (!hasRules) f.error(['spec'], 'a CUSTOM policy without rules never triggers; add an empty rule {} to apply it to every request');
    else if (str(obj(spec.provider)?.name) === '') f.error(['spec', 'provider'], 'a CUSTOM policy needs provider.name');
    rules.forEach((rule, i) => checkCustomRule(f, ['spec', 'rules', i], obj(rule)));
  }
  if (isSet(spec.provider) && action !== 'CUSTOM') f.error(['spec', 'provider'], `provider can be set only with action CUSTOM, not ${action}`);
  if (action === 'DENY' && !hasRules) f.error(['spec'], 'a DENY policy without rules never triggers; add an empty rule {} to apply it to every request');

  rules.forEach((raw, i) => {
    const p = ['spec', 'rules', i];
    const rule = obj(raw);
    if (!rule) return f.error(p, 'rule must not be null');
    let fromExists = false, toExists = false, tcpInFrom = false, tcpInTo = false;
    list(rule.from).forEach((fromRaw, j) => {
      const fp = [...p, 'from', j];
      const from = obj(fromRaw);
      if (!from) return f.error(fp, '`from` must not be null');
      const src = obj(from.source);
      if (!src) return f.error(fp, '`from.source` must not be null');
      fromExists = true;
      const has = (k: string) => list(src[k]).length > 0;
      if (['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].some(has) && SERVICE_ACCOUNT_FIELDS.some(has)) {
        f.error([...fp, 'source'], 'serviceAccounts cannot be combined with namespaces or principals');
      }
      if (!SOURCE_FIELDS.some(has)) f.error([...fp, 'source'], '`from.source` must not be empty');
      for (const k of IP_FIELDS) checkIPs(f, [...fp, 'source', k], src[k]);
      for (const k of SOURCE_FIELDS) {
        if (SERVICE_ACCOUNT_FIELDS.includes(k)) {
          const err = serviceAccountsError(list(src[k]).map(str));
          if (err) f.error([...fp, 'source', k], err);
        } else checkNoEmptyValues(f, [...fp, 'source', k], src[k]);
      }
      if (TCP_SOURCE_FIELDS.some((k) => list(src[k]).length)) tcpInFrom = true;
    });
    list(rule.to).forEach((toRaw, j) => {
      const tp = [...p, 'to', j];
      const to = obj(toRaw);
      if (!to) return f.error(tp, '`to` must not be null');
      const op = obj(to.operation);
      if (!op) return f.error(tp, '`to.operation` must not be null');
      toExists = true;
      if (!OPERATION_FIELDS.some((k) => list(op[k]).length)) f.error([...tp, 'operation'], '`to.operation` must not be empty');
      checkPorts(f, [...tp, 'operation', 'ports'], op.ports);
      checkPorts(f, [...tp, 'operation', 'notPorts'], op.notPorts);
      for (const k of OPERATION_FIELDS) checkNoEmptyValues(f, [...tp, 'operation', k], op[k]);
      checkPathTemplates(f, [...tp, 'operation', 'paths'], op.paths);
      checkPathTemplates(f, [...tp, 'operation', 'notPaths'], op.notPaths);
      if (list(op.ports).length || list(op.notPorts).length) tcpInTo = true;
    });
    list(rule.when).forEach((cond, j) => checkCondition(f, [...p, 'when', j], obj(cond)));

    if (action === 'DENY' && ((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo))) {
      f.warn(p, 'this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in its scope; name the ports explicitly');
    }
  });
}

/** CUSTOM (external authorization) rules cannot use identity attributes: they are not known yet. */
function checkCustomRule(f: Findings, p: FieldPath, rule: Obj | undefined): void {
  if (!rule) return;
  list(rule.from).forEach((from, j) => {
    const src = obj(obj(from)?.source);
    if (!src) return;
    for (const k of ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals']) {
      if (list(src[k]).length) f.error([...p, 'from', j, 'source', k], `from.source.${k} is not supported with action CUSTOM`);
    }
  });
  list(rule.when).forEach((cond, j) => {
    const c = obj(cond);
    if (!c) return f.error([...p, 'when', j], '`when` must not be null');
    const key = str(c.key);
    if (key === 'source.namespace' || key === 'source.serviceAccount' || key === 'source.principal' || key.startsWith('request.auth.')) {
      f.error([...p, 'when', j, 'key'], `condition key ${key} is not supported with action CUSTOM`);
    }
  });
}

function checkNoEmptyValues(f: Findings, p: FieldPath, values: unknown): void {
  const i = list(values).findIndex((v) => str(v) === '');
  if (i >= 0) f.error([...p, i], 'empty values are not allowed');
}

function checkIPs(f: Findings, p: FieldPath, values: unknown): void {
  list(values).forEach((v, i) => {
    const s = str(v);
    if (s.includes('/') ? !isCIDR(s) : !isIPAddress(s)) f.error([...p, i], s.includes('/') ? `bad CIDR range "${s}"` : `bad IP address "${s}"`);
  });
}

function checkPorts(f: Findings, p: FieldPath, values: unknown): void {
  list(values).forEach((v, i) => {
    const s = typeof v === 'number' ? String(v) : str(v);
    if (!/^\d+$/.test(s) || Number(s) > 65535) f.error([...p, i], `bad port "${s}"`);
  });
}

// Characters allowed in a literal path segment (RFC 3986 pchar) when the path is a template.
const PATH_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/**
 * Path templates: `{*}` matches one segment, `{**}` the rest and must come last; no other
 * braces, and the literal segments must be valid path characters.
 */
function pathTemplateError(path: string): string | undefined {
  const isTemplate = path.includes('{*}') || path.includes('{**}');
  let sawMatchAny = false;
  for (const glob of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if ((glob === '{*}' || glob === '{**}') && sawMatchAny) return `path template "${path}" has an operator after {**}, which must be last`;
    if (glob === '{*}') continue;
    if (glob === '{**}') {
      sawMatchAny = true;
      continue;
    }
    if (/[{}]/.test(glob)) return `path "${path}" has '{' or '}' outside a supported template ({*} or {**})`;
    if (isTemplate && !PATH_LITERAL.test(glob)) return `path template "${path}" has an invalid segment "${glob}"`;
  }
  return undefined;
}

function checkPathTemplates(f: Findings, p: FieldPath, values: unknown): void {
  // Istio reports the first bad path of a list.
  for (const [i, v] of list(values).entries()) {
    const err = pathTemplateError(str(v));
    if (err) return f.error([...p, i], err);
  }
}

/** `serviceAccounts`: at most 16 entries, each `name` or `namespace/name`, no wildcards. */
function serviceAccountsError(values: string[]): string | undefined {
  if (values.length > 16) return 'at most 16 service accounts may be listed';
  for (const v of values) {
    if (v === '') return 'empty values are not allowed';
    if (v.includes('*')) return `wildcards are not allowed: "${v}"`;
    const slashes = (v.match(/\//g) ?? []).length;
    if (slashes > 1) return `"${v}" must be 'serviceAccount' or 'namespace/serviceAccount'`;
    if (v.length > 320) return `"${v}" is longer than 320 characters`;
    if (slashes === 1 && (v.startsWith('/') || v.endsWith('/'))) return `"${v}" has an empty namespace or service account`;
  }
  return undefined;
}

function checkCondition(f: Findings, p: FieldPath, cond: Obj | undefined): void {
  const key = str(cond?.key);
  if (key === '') return f.error([...p, 'key'], '`key` must not be empty');
  const values = list(cond?.values), notValues = list(cond?.notValues);
  if (values.length === 0 && notValues.length === 0) return f.error(p, `condition ${key} needs values or notValues`);
  const valueErr = attributeError(key, values);
  if (valueErr) f.error([...p, 'values'], `invalid values for key ${key}: ${valueErr}`);
  const notErr = attributeError(key, notValues);
  if (notErr) f.error([...p, 'notValues'], `invalid notValues for key ${key}: ${notErr}`);
}

/** Condition keys Istio knows and what their values must look like. */
function attributeError(key: string, values: unknown[]): string | undefined {
  const strings = values.map((v) => (typeof v === 'number' ? String(v) : str(v)));
  if (strings.some((v) => v === '')) return 'empty values are not allowed';
  const mapKey = () => {
    const open = key.indexOf('[');
    return key.endsWith(']') && open > 0 && open < key.length - 2 ? undefined : `key ${key} must have the form name[entry]`;
  };
  const ips = () => strings.map((s) => (s.includes('/') ? (isCIDR(s) ? '' : `bad CIDR range "${s}"`) : isIPAddress(s) ? '' : `bad IP address "${s}"`)).find(Boolean);
  if (key.startsWith('request.headers') || key.startsWith('request.experimental.inline.headers')) return mapKey();
  if (key === 'source.serviceAccount') return serviceAccountsError(strings);
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') return ips();
  if (['source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'connection.sni'].includes(key)) return undefined;
  if (key.startsWith('request.auth.claims') || key.startsWith('experimental.envoy.filters.')) return mapKey();
  if (key === 'destination.port') return strings.map((s) => (/^\d+$/.test(s) && Number(s) <= 65535 ? '' : `bad port "${s}"`)).find(Boolean);
  if (key === 'destination.namespace') return `key ${key} is replaced by the policy's metadata.namespace`;
  if (key.startsWith('destination.labels')) return `key ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `key ${key} is deprecated (v1alpha1 only)`;
  return `unknown key ${key}`;
}
