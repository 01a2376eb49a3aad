import type { FieldPath } from '../../../../api/resource.js';
import { checkDuration } from './check-durations.js';
import type { Findings } from './findings.js';
import { entries, isSet, list, num, obj, str, wrapped, type Obj } from './yaml-values.js';

// The loadBalancer of a DestinationRule traffic policy: consistent hashing (ring hash, Maglev),
// locality-weighted distribution and failover, and slow-start warmup.

/** Envoy's own primality test for the Maglev table size. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let d = 3; d <= limit; d += 2) if (x % d === 0) return false;
  return true;
}

export function checkLoadBalancer(f: Findings, p: FieldPath, lb: Obj | undefined, hasOutlierDetection: boolean): void {
  if (!lb) return;
  const hash = obj(lb.consistentHash);
  if (hash) {
    const hp = [...p, 'consistentHash'];
    const cookie = obj(hash.httpCookie);
    if (cookie && str(cookie.name) === '') f.error([...hp, 'httpCookie'], 'httpCookie needs a name');
    const minRing = num(hash.minimumRingSize);
    if (minRing !== 0) f.warn([...hp, 'minimumRingSize'], 'minimumRingSize is deprecated; use ringHash.minimumRingSize');
    if (minRing !== 0 && (isSet(hash.ringHash) || isSet(hash.maglev))) f.error(hp, 'set only one of minimumRingSize and maglev/ringHash');
    const maglev = obj(hash.maglev);
    if (maglev) {
      const size = num(maglev.tableSize);
      const sp = [...hp, 'maglev', 'tableSize'];
      if (size === 0) f.error(sp, 'maglev needs a tableSize');
      if (size >= 5000011) f.error(sp, 'maglev tableSize must be less than 5000011');
      if (!isPrime(size)) f.error(sp, `maglev tableSize ${size} must be a prime number`);
    }
  }
  checkLocalityLbSetting(f, [...p, 'localityLbSetting'], obj(lb.localityLbSetting), hasOutlierDetection);
  checkDuration(f, [...p, 'warmupDurationSecs'], lb.warmupDurationSecs);
  const warmup = obj(lb.warmup);
  if (warmup) {
    const wp = [...p, 'warmup'];
    if (!isSet(warmup.duration)) f.error(wp, 'warmup needs a duration');
    else checkDuration(f, [...wp, 'duration'], warmup.duration);
    if (wrapped(warmup.minimumPercent) > 100) f.error([...wp, 'minimumPercent'], 'minimumPercent must be at most 100');
    if (isSet(warmup.aggression) && wrapped(warmup.aggression) < 1) f.error([...wp, 'aggression'], 'aggression must be at least 1');
  }
}

const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

function checkLocalityLbSetting(f: Findings, p: FieldPath, lb: Obj | undefined, hasOutlierDetection: boolean): void {
  if (!lb) return;
  const distribute = list(lb.distribute), failover = list(lb.failover), priority = list(lb.failoverPriority).map(str);
  if (distribute.length && failover.length) {
    f.error(p, 'distribute and failover cannot be set together');
    return;
  }
  if (failover.length && priority.length) {
    const topo = priority.find((l) => TOPOLOGY_LABELS.has(l));
    if (topo) {
      f.error([...p, 'failoverPriority'], `failover cannot be combined with the topology label ${topo} in failoverPriority`);
      return;
    }
  }
  const sources: string[] = [];
  for (let i = 0; i < distribute.length; i++) {
    const d = obj(distribute[i]) ?? {};
    const dp = [...p, 'distribute', i];
    sources.push(str(d.from));
    let total = 0;
    const dests: string[] = [];
    for (const [loc, w] of entries(d.to)) {
      dests.push(loc);
      const weight = num(w);
      if (weight <= 0 || weight > 100) {
        f.error([...dp, 'to', loc], 'locality weights must be in the range 1..100');
        return;
      }
      total += weight;
    }
    if (total !== 100) {
      f.error([...dp, 'to'], `locality weights add up to ${total}, not 100`);
      return;
    }
    const err = localitiesError(dests);
    if (err) f.error([...dp, 'to'], err);
  }
  const srcErr = localitiesError(sources);
  if (srcErr) f.error([...p, 'distribute'], srcErr);
  if ((failover.length || priority.length) && !hasOutlierDetection) {
    f.warn(p, 'failover needs an outlier detection policy to take effect');
  }
  failover.forEach((raw, i) => {
    const fo = obj(raw) ?? {};
    const from = str(fo.from), to = str(fo.to);
    const fp = [...p, 'failover', i];
    if (from === to) f.error(fp, 'failover from and to must be different regions');
    if (from.includes('/') || to.includes('/')) f.error(fp, 'failover takes regions only (no zone or subzone)');
    if (from.includes('*') || to.includes('*')) f.error(fp, "failover regions must not contain the '*' wildcard");
  });
}

/** Localities `region[/zone[/subzone]]`, at most one trailing `*`, none overlapping another. */
function localitiesError(localities: string[]): string | undefined {
  const tree = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = (locality.match(/\*/g) ?? []).length;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality ${locality} may contain only one '*' wildcard, at the end`;
    if (tree.has('*')) return `locality ${locality} overlaps an earlier one`;
    const items = locality.split('/');
    const parts = items.length > 3 ? [items[0], items[1], items.slice(2).join('/')] : items;
    if (parts.some((x) => x === '')) return `locality ${locality} must not have an empty region, zone or subzone`;
    const [region, zone, subzone] = parts;
    const zones = tree.get(region);
    if (parts.length === 1) {
      if (zones) return `locality ${locality} overlaps an earlier one`;
      tree.set(region, new Map([['*', new Set(['*'])]]));
    } else if (parts.length === 2) {
      if (zones) {
        if (zones.has('*') || zones.has(zone)) return `locality ${locality} overlaps an earlier one`;
        zones.set(zone, new Set(['*']));
      } else tree.set(region, new Map([[zone, new Set(['*'])]]));
    } else if (zones) {
      if (zones.has('*')) return `locality ${locality} overlaps an earlier one`;
      const subs = zones.get(zone);
      if (subs) {
        if (subs.has('*') || subs.has(subzone)) return `locality ${locality} overlaps an earlier one`;
        subs.add(subzone);
      } else zones.set(zone, new Set([subzone]));
    } else tree.set(region, new Map([[zone, new Set([subzone])]]));
  }
  return undefined;
}
