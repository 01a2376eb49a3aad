import type { Detection, Incident } from '../model.js';

// Turns each round's failing checks into incidents, with hysteresis: an incident opens in a
// namespace when a check fails there and none is open (a latency check must fail two rounds in
// a row, unless it is twice past its threshold: a busy machine makes single slow seconds; errors
// and dead instances open at once);
// every later failure in that namespace
// joins it (a fault's symptoms spread over services); it closes once every check of the
// namespace has held for `closeAfterMs`, so a check that flaps around its threshold keeps one
// incident open instead of opening a new one each time. The anomaly is taken to have begun one
// window before the first failure (the window that failed may have started healthy).

export interface TrackedIncident extends Incident {
  lastFailingAt: number;
}

export interface TrackerUpdate {
  opened: TrackedIncident[];
  /** Detections new to an open incident (its first per check and subject) and repeats. */
  detections: Array<{ incident: TrackedIncident; detection: Detection; first: boolean }>;
  closed: TrackedIncident[];
}

export interface TrackerOptions {
  closeAfterMs: () => number;
  windowMs: () => number;
  nextId: () => string;
}

export class IncidentTracker {
  private readonly byNamespace = new Map<string, TrackedIncident>();
  private readonly seen = new Map<string, Set<string>>();
  /** Checks that failed in the previous round (to confirm the ones that must fail twice). */
  private previous = new Set<string>();

  constructor(private readonly opts: TrackerOptions) {}

  /** Incidents left open by a previous run (from the store): they go on, and close as any other. */
  resume(incidents: readonly Incident[], now: number): void {
    for (const i of incidents) {
      if (i.status !== 'open') continue;
      this.byNamespace.set(i.namespace, { ...i, lastFailingAt: now });
      this.seen.set(i.id, new Set(i.detections.map(key)));
    }
  }

  open(): TrackedIncident[] {
    return [...this.byNamespace.values()];
  }

  update(at: number, failing: readonly Detection[]): TrackerUpdate {
    const out: TrackerUpdate = { opened: [], detections: [], closed: [] };
    const byNs = new Map<string, Detection[]>();
    for (const d of failing) {
      let l = byNs.get(d.namespace);
      if (!l) byNs.set(d.namespace, (l = []));
      l.push(d);
    }
    const previous = this.previous;
    this.previous = new Set(failing.map(key));
    for (const [ns, list] of byNs) {
      let inc = this.byNamespace.get(ns);
      if (!inc) {
        const confirmed = list.filter((d) => !NEEDS_CONFIRMATION.has(d.check) || previous.has(key(d)) || d.value >= CLEAR_MARGIN * d.threshold);
        if (confirmed.length === 0) {
          byNs.delete(ns);
          continue;
        }
        const first = [...confirmed].sort(bySeverity)[0];
        inc = {
          id: this.opts.nextId(),
          openedAt: at,
          onsetAt: at - this.opts.windowMs(),
          status: 'open',
          subject: first.subject,
          namespace: ns,
          detections: [],
          causes: [],
          timeline: [{ at, kind: 'opened', text: `opened: ${first.text ?? `${first.check} failed on ${first.subject}`}` }],
          lastFailingAt: at,
        };
        this.byNamespace.set(ns, inc);
        this.seen.set(inc.id, new Set());
        out.opened.push(inc);
      }
      inc.lastFailingAt = at;
      const seen = this.seen.get(inc.id)!;
      for (const d of list) {
        const k = key(d);
        const first = !seen.has(k);
        if (first) {
          seen.add(k);
          inc.detections.push(d);
        }
        out.detections.push({ incident: inc, detection: d, first });
      }
    }
    for (const [ns, inc] of [...this.byNamespace]) {
      if (byNs.has(ns) || at - inc.lastFailingAt < this.opts.closeAfterMs()) continue;
      inc.status = 'closed';
      inc.closedAt = at;
      inc.timeline.push({ at, kind: 'closed', text: `closed: every check held for ${Math.round(this.opts.closeAfterMs() / 1000)} s` });
      this.byNamespace.delete(ns);
      this.seen.delete(inc.id);
      out.closed.push(inc);
    }
    return out;
  }
}

const NEEDS_CONFIRMATION = new Set(['latency']);
/** A latency twice past its threshold is no busy second: it opens at once. */
const CLEAR_MARGIN = 2;

function key(d: Detection): string {
  return `${d.check}|${d.subject}`;
}

/** The incident's subject: errors and dead instances first, services before their parts and edges, then how far past the threshold. */
function bySeverity(a: Detection, b: Detection): number {
  const rank = (d: Detection) => (d.check === 'error-ratio' || d.check === 'instance-health' ? 0 : 1);
  const kind = (d: Detection) => ['service', 'external', 'workload', 'instance', 'edge'].indexOf(d.subject.split(' ')[0]);
  const over = (d: Detection) => (d.threshold > 0 ? d.value / d.threshold : d.value);
  return rank(a) - rank(b) || kind(a) - kind(b) || over(b) - over(a) || (a.subject < b.subject ? -1 : 1);
}
