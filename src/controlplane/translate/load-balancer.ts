import type { HashPolicy, LbPolicy } from '../../api/snapshot.js';
import { durationMs } from '../../util/duration.js';
import type { Notes } from './notes.js';

// DestinationRule `loadBalancer` -> the cluster's policy. Istio's default is LEAST_REQUEST;
// `consistentHash` is a ring hash (minimum ring 1024) unless `maglev` is asked for.

export const DEFAULT_RING_SIZE = 1024;

export interface BalancerSettings {
  lbPolicy: LbPolicy;
  hashPolicy?: HashPolicy;
  ringSize?: number;
}

const SIMPLE: Record<string, LbPolicy> = {
  UNSPECIFIED: 'LEAST_REQUEST',
  LEAST_REQUEST: 'LEAST_REQUEST',
  LEAST_CONN: 'LEAST_REQUEST', // deprecated alias in Istio
  ROUND_ROBIN: 'ROUND_ROBIN',
  RANDOM: 'RANDOM',
  PASSTHROUGH: 'PASSTHROUGH',
};

export function balancerSettings(lb: any, origin: string, notes: Notes): BalancerSettings {
  if (!lb || typeof lb !== 'object') return { lbPolicy: 'LEAST_REQUEST' };
  if (lb.localityLbSetting !== undefined) notes.add(origin, 'loadBalancer.localityLbSetting is not implemented (one machine, one locality); ignored');
  if (lb.warmupDurationSecs !== undefined || lb.warmup !== undefined) notes.add(origin, 'loadBalancer warmup is not implemented yet; ignored');
  const ch = lb.consistentHash;
  if (ch && typeof ch === 'object') {
    const hashPolicy = hashPolicyOf(ch, origin, notes);
    if (ch.maglev) {
      if (ch.maglev.tableSize !== undefined) notes.add(origin, 'consistentHash.maglev.tableSize is fixed at 65537 in meshmedic; ignored');
      return { lbPolicy: 'MAGLEV', ...(hashPolicy && { hashPolicy }) };
    }
    const ringSize = Number(ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? 0) || DEFAULT_RING_SIZE;
    return { lbPolicy: 'RING_HASH', ...(hashPolicy && { hashPolicy }), ringSize };
  }
  return { lbPolicy: SIMPLE[String(lb.simple ?? 'UNSPECIFIED')] ?? 'LEAST_REQUEST' };
}

function hashPolicyOf(ch: any, origin: string, notes: Notes): HashPolicy | undefined {
  if (typeof ch.httpHeaderName === 'string') return { header: ch.httpHeaderName.toLowerCase() };
  if (ch.httpCookie && typeof ch.httpCookie === 'object') {
    const c = ch.httpCookie;
    if (c.attributes !== undefined) notes.add(origin, 'consistentHash.httpCookie.attributes are not implemented yet; ignored');
    const ttlMs = durationMs(c.ttl);
    return { cookie: { name: String(c.name), ...(ttlMs !== undefined && { ttlMs }), ...(c.path !== undefined && { path: c.path }) } };
  }
  if (ch.useSourceIp === true) return { sourceIp: true };
  if (typeof ch.httpQueryParameterName === 'string') return { queryParameter: ch.httpQueryParameterName };
  return undefined;
}
