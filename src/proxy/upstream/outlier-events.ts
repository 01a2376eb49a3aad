// Every ejection and return, kept for diagnosis (istio#40143, #52962: "which pod was
// ejected, and why?"). Envoy writes these to an optional event log file; the sidecar keeps
// the last ones in memory and serves them at the admin endpoint `/outlier_events`.

/** Envoy's OutlierEjectionType names for the detectors Istio enables. */
export type EjectionReason = 'consecutive_5xx' | 'consecutive_gateway_failure';

export interface OutlierEvent {
  time: number; // clock.now() (ms)
  cluster: string;
  host: string; // endpoint key, `address:port` or `unix:/path`
  instance: string; // workload instance of the endpoint
  kind: 'eject' | 'uneject';
  reason: EjectionReason; // for an uneject: the reason of the ejection it ends
  ejections: number; // times this host has been ejected, this one included
  /** eject: how long the ejection is meant to last; uneject: how long it lasted. */
  durationMs: number;
}

/** A bounded ring: the newest `capacity` events, oldest first. */
export class OutlierEventLog {
  private readonly ring: OutlierEvent[] = [];
  private next = 0;
  total = 0;

  constructor(readonly capacity = 1000) {}

  push(e: OutlierEvent): void {
    this.total++;
    if (this.ring.length < this.capacity) this.ring.push(e);
    else {
      this.ring[this.next] = e;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  list(): OutlierEvent[] {
    return this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
