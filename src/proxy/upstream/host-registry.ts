import type { Endpoint } from '../../api/snapshot.js';
import { endpointKey, UpstreamHost } from './host.js';

/**
 * All upstream hosts by endpoint key, across snapshots. A new snapshot reuses the hosts of
 * endpoints it keeps (connections and counters survive) and retires the others once the
 * snapshot is in place.
 */
export class HostRegistry {
  private hosts = new Map<string, UpstreamHost>();
  private next: Map<string, UpstreamHost> | null = null;

  /** Starts collecting the hosts of a snapshot being compiled. */
  begin(): void {
    this.next = new Map();
  }

  host(e: Endpoint): UpstreamHost {
    const key = endpointKey(e);
    let h = this.next!.get(key);
    if (h) return h;
    h = this.hosts.get(key);
    if (h) h.endpoint = e;
    else h = new UpstreamHost(key, e);
    this.next!.set(key, h);
    return h;
  }

  /** The compiled snapshot is in place: close pools of endpoints it no longer has (in-flight requests finish). */
  commit(): void {
    const next = this.next!;
    for (const [key, h] of this.hosts) if (!next.has(key)) void h.close();
    this.hosts = next;
    this.next = null;
  }

  /** The snapshot was rejected: forget what was collected (hosts of the running snapshot are untouched). */
  abort(): void {
    this.next = null;
  }

  async destroyAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.destroy()));
    this.hosts.clear();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close()));
    this.hosts.clear();
  }
}
