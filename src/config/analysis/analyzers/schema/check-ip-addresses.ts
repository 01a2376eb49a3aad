import { isIP } from 'node:net';

// IP addresses and CIDR blocks (Gateway binds, ServiceEntry addresses, match subnets).

export function isIPAddress(v: string): boolean {
  return isIP(v) !== 0;
}

export function checkIPAddress(v: string): string | undefined {
  return isIPAddress(v) ? undefined : `${v} is not a valid IP address`;
}

/** An IP prefix `a.b.c.d/n` or `x::y/n` (host bits may be set, as Go's netip.ParsePrefix allows). */
export function isCIDR(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  const ip = v.slice(0, slash), bits = v.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** An IP address or a CIDR block. */
export function checkIPSubnet(v: string): string | undefined {
  if ((v.match(/\//g) ?? []).length === 1) return isCIDR(v) ? undefined : `${v} is not a valid CIDR block`;
  return checkIPAddress(v);
}
