import { BlockList, isIPv6 } from 'node:net';

// Istio's string matching in AuthorizationPolicy values: `*` (any non-empty value), `prefix*`,
// `*suffix`, else exact. Compiled once per snapshot into a predicate.

export type StringPredicate = (v: string) => boolean;

export function compileValue(pattern: string, ignoreCase = false): StringPredicate {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === '*') return (v) => v !== '';
  if (p.endsWith('*')) {
    const pre = p.slice(0, -1);
    return (v) => norm(v).startsWith(pre);
  }
  if (p.startsWith('*')) {
    const suf = p.slice(1);
    return (v) => norm(v).endsWith(suf);
  }
  return (v) => norm(v) === p;
}

/** Any of the values (OR); an empty list is no constraint, reported as undefined. */
export function compileValues(values: readonly string[] | undefined, ignoreCase = false): StringPredicate | undefined {
  if (!values || values.length === 0) return undefined;
  const ps = values.map((v) => compileValue(String(v), ignoreCase));
  if (ps.length === 1) return ps[0];
  return (v) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](v)) return true;
    return false;
  };
}

/** `ipBlocks`: addresses or CIDR ranges, IPv4 or IPv6 (`::ffff:` mapped addresses compare as IPv4). */
export function compileIpBlocks(values: readonly string[] | undefined): StringPredicate | undefined {
  if (!values || values.length === 0) return undefined;
  const list = new BlockList();
  for (const raw of values) {
    const v = String(raw).trim();
    const slash = v.indexOf('/');
    const addr = slash < 0 ? v : v.slice(0, slash);
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    try {
      if (slash < 0) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(v.slice(slash + 1)), type);
    } catch {
      // Istio's validation rejects malformed blocks; an unusable one matches nothing here.
    }
  }
  return (ip) => {
    if (!ip) return false;
    const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    try {
      return list.check(v4, isIPv6(v4) ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  };
}
