import type { Detection, Incident } from '../model.js';

// Turns each round's failing checks into incidents, with hysteresis. A failing check joins:
// 1. the open incident of its namespace that already holds its subject (a check that flaps
//    around its threshold keeps feeding one incident instead of opening a new one each time);
// 2. else the newest incident of its namespace opened less than `joinMs` ago (two windows: a
//    fault's symptoms spread over its callers, edges and instances within a window or two);
// 3. else it opens a new incident: a different subject failing later is a different onset (a
//    new fault must not land in an old incident, ranked on an old window with old causes). A
//    latency check must fail two rounds in a row to open one, unless it is twice past its
//    threshold (a busy machine makes single slow seconds); errors and dead instances open at once.
// Each incident closes once its own subjects have held for `closeAfterMs`. The anomaly is taken
// to have begun one window before the first failure (the window that failed may have started
// healthy).

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
  /** How long after opening an incident takes in new subjects of its namespace (default: two windows). */
  joinMs?: () => number;
}

export class IncidentTracker {
  /** Open incidents, oldest first. */
  private readonly openList: TrackedIncident[] = [];
  /** Per open incident: the check|subject keys it holds, and its subjects. */
  private readonly seen = new Map<string, Set<string>>();
  private readonly subjects = new Map<string, Set<string>>();
  /** Checks that failed in the previous round (to confirm the ones that must fail twice). */
  private previous = new Set<string>();

  constructor(private readonly opts: TrackerOptions) {}

  /** Incidents left open by a previous run (from the store): they go on, and close as any other. */
  resume(incidents: readonly Incident[], now: number): void {
    for (const i of incidents) {
      if (i.status !== 'open') continue;
      this.openList.push({ ...i, lastFailingAt: now });
      this.seen.set(i.id, new Set(i.detections.map(key)));
      this.subjects.set(i.id, new Set(i.detections.map((d) => d.subject)));
    }
    this.openList.sort((a, b) => a.openedAt - b.openedAt);
  }

  open(): TrackedIncident[] {
    return [...this.openList];
  }

  /** Where a failing check goes: the incident holding its subject, else one still gathering its symptoms. */
  private route(at: number, d: Detection): TrackedIncident | undefined {
    const inNs = this.openList.filter((i) => i.namespace === d.namespace);
    for (let i = inNs.length - 1; i >= 0; i--) if (this.subjects.get(inNs[i].id)!.has(d.subject)) return inNs[i];
    const joinMs = this.opts.joinMs?.() ?? 2 * this.opts.windowMs();
    for (let i = inNs.length - 1; i >= 0; i--) if (at - inNs[i].openedAt <= joinMs) return inNs[i];
    return undefined;
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
    const failed = new Set<TrackedIncident>();
    for (const [ns, all] of byNs) {
      const fresh: Detection[] = [];
      const joins: Array<[TrackedIncident, Detection]> = [];
      for (const d of all) {
        const inc = this.route(at, d);
        if (inc) joins.push([inc, d]);
        else fresh.push(d);
      }
      const confirmed = fresh.filter((d) => !NEEDS_CONFIRMATION.has(d.check) || previous.has(key(d)) || d.value >= CLEAR_MARGIN * d.threshold);
      if (confirmed.length > 0) {
        const first = [...confirmed].sort(bySeverity)[0];
        const inc: TrackedIncident = {
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
        this.openList.push(inc);
        this.seen.set(inc.id, new Set());
        this.subjects.set(inc.id, new Set());
        out.opened.push(inc);
        // Unconfirmed latency of this round joins it too: it is a symptom of the same onset.
        for (const d of fresh) joins.push([inc, d]);
      }
      for (const [inc, d] of joins) {
        inc.lastFailingAt = at;
        failed.add(inc);
        const k = key(d);
        const seen = this.seen.get(inc.id)!;
        const first = !seen.has(k);
        if (first) {
          seen.add(k);
          this.subjects.get(inc.id)!.add(d.subject);
          inc.detections.push(d);
        }
        out.detections.push({ incident: inc, detection: d, first });
      }
    }
    for (const inc of [...this.openList]) {
      if (failed.has(inc) || at - inc.lastFailingAt < this.opts.closeAfterMs()) continue;
      inc.status = 'closed';
      inc.closedAt = at;
      inc.timeline.push({ at, kind: 'closed', text: `closed: every check held for ${Math.round(this.opts.closeAfterMs() / 1000)} s` });
      this.openList.splice(this.openList.indexOf(inc), 1);
      this.seen.delete(inc.id);
      this.subjects.delete(inc.id);
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
