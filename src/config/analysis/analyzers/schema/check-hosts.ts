import { isIPAddress } from './check-ip-addresses.js';

// Host names as Istio validates them: DNS-1123 labels, FQDNs, wildcard domains, how two
// (wildcarded) names overlap, and the `namespace/host` form of Sidecars and Gateways.

/** Also the building block of label keys (check-selectors.ts). */
export const DNS1123_LABEL = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL}$`);
const wildcardLabelRe = new RegExp(`^(?:\\*|(?:\\*|\\*-)?${DNS1123_LABEL})$`);

export function isDNS1123Label(v: string): boolean {
  return v.length <= 63 && dns1123LabelRe.test(v);
}

/** A DNS label that may also be `*` or start with `*` / `*-` (`*foo`, `*-foo`). */
export function isWildcardDNS1123Label(v: string): boolean {
  return v.length <= 63 && wildcardLabelRe.test(v);
}

function dnsPreconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" is too long (at most 255 characters)`;
  if (name.length === 0) return 'domain name must not be empty';
  return undefined;
}

function dnsLabels(domain: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1];
  if (/^[-+]?\d+$/.test(top)) return `domain name "${domain}" is invalid: its top-level domain "${top}" is all digits`;
  for (let i = 0; i < parts.length; i++) {
    // A trailing dot (`istio.io.`) is allowed.
    if (i === parts.length - 1 && parts[i] === '') return undefined;
    if (!isDNS1123Label(parts[i])) return `domain name "${domain}" is invalid: label "${parts[i]}" is not a DNS-1123 label`;
  }
  return undefined;
}

/** A fully qualified domain name, no wildcards. */
export function checkFQDN(fqdn: string): string | undefined {
  return dnsPreconditions(fqdn) ?? dnsLabels(fqdn);
}

/** A domain name whose first label may be a wildcard (`*.example.com`, `*`). */
export function checkWildcardDomain(domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDNS1123Label(first)) return `domain name "${domain}" is invalid: label "${first}" is not a DNS-1123 label or wildcard`;
  return dot < 0 ? undefined : dnsLabels(domain.slice(dot + 1));
}

/**
 * Like checkWildcardDomain, for VirtualServices bound to gateways: an SNI host may be one of
 * Istio's generated `outbound_.<port>_...` names.
 */
export function checkWildcardDomainForGatewayRoute(sni: boolean, domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (sni && first === 'outbound_') {
    return /outbound_.([0-8].*).*/.test(domain) ? undefined : `domain name "${domain}" is invalid: label "${first}" is not valid here`;
  }
  if (!isWildcardDNS1123Label(first)) return `domain name "${domain}" is invalid: label "${first}" is not a DNS-1123 label or wildcard`;
  return dot < 0 ? undefined : dnsLabels(domain.slice(dot + 1));
}

/** Only whole leading labels may be wildcards: `*.foo.com` or `*`, never `foo*.com`. */
export function checkPartialWildcard(host: string): string | undefined {
  if (host.includes('*') && host.length !== 1 && !host.startsWith('*.')) return `partial wildcard "${host}" is not allowed`;
  return undefined;
}

/** Istio's host.Name.Matches: the two (possibly wildcarded) names overlap. */
export function hostNamesOverlap(a: string, b: string): boolean {
  const aw = a.startsWith('*'), bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `a` covers is also covered by `b`. */
export function hostNameSubsetOf(a: string, b: string): boolean {
  const aw = a.startsWith('*'), bw = b.startsWith('*');
  if (aw && bw) return a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (aw) return false;
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Host part of a Sidecar egress host or Gateway server host (`ns/` prefix removed). */
function checkScopedHostnamePart(hostname: string, isGateway: boolean): string[] {
  const errs: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) errs.push('short names (not fully qualified) are not allowed');
  const err = checkWildcardDomain(hostname);
  if (err) {
    // Gateways also accept an IP address as the host.
    if (!isGateway) errs.push(err);
    if (!isIPAddress(hostname)) errs.push(err);
  }
  const partial = checkPartialWildcard(hostname);
  if (partial) errs.push(partial);
  return errs;
}

/** `namespace/dnsName` hosts of Sidecar egress listeners and Gateway servers (gateways also allow plain names). */
export function checkNamespaceSlashHost(hostname: string, isGateway: boolean, gatewaySemantics = false): string[] {
  const slash = hostname.indexOf('/');
  if (slash < 0) {
    if (isGateway) return checkScopedHostnamePart(hostname, true);
    return ['host must have the form namespace/dnsName'];
  }
  const ns = hostname.slice(0, slash), name = hostname.slice(slash + 1);
  const errs: string[] = [];
  if (!ns || !name) errs.push('namespace and dnsName of a host must not be empty');
  const special = ns === '*' || ns === '.' || (ns === '~' && (!isGateway || gatewaySemantics));
  if (!special && !isDNS1123Label(ns)) errs.push(`invalid namespace "${ns}" in ${isGateway ? 'gateway' : 'sidecar'} host`);
  errs.push(...checkScopedHostnamePart(name, isGateway));
  return errs;
}
