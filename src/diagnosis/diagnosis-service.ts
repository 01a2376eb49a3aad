import type { Clock, TimerHandle } from '../proxy/clock.js';
import { DETECTORS } from './detection/registry.js';
import { IncidentTracker, type TrackedIncident } from './detection/incident-tracker.js';
import { DEFAULT_SLO, type SloConfig } from './detection/slo.js';
import { focusCauses } from './focus.js';
import { IncidentStore } from './incidents/incident-store.js';
import { localize } from './localization/localize.js';
import { describeTarget, targetKey, type Detection, type RankedCause } from './model.js';
import { buildSnapshot, type SnapshotInputs } from './signals/build-snapshot.js';
import { WindowCache } from './signals/metrics-adapter.js';
import type { SignalSnapshot, SignalWindow } from './signals/snapshot.js';

// Diagnosis inside the control plane: every second (on the injected clock, shortly after each
// scrape round) the detectors read the last window of metrics against the baseline before it;
// failing checks open incidents (IncidentTracker), each open incident is localized (ranked
// causes with evidence) at once, every round for its first seconds and every few seconds after,
// and once more when it closes. Everything is written to the incident store as it happens.

export interface DiagnosisOptions {
  /** Default true; false: no detection loop (the on-demand API still answers). */
  detection?: boolean;
  /** Where incidents are kept; default: in memory (lost at exit). */
  databaseFile?: string;
  slo?: SloConfig;
  intervalMs?: number;
  /** How long after a scrape round to evaluate (its samples must have arrived). Default 300 ms. */
  offsetMs?: number;
  /** Ask sidecars for outlier events when localizing (default true). */
  outlierEvents?: boolean;
  log?: (line: string) => void;
}

export interface DiagnosisReport {
  at: number;
  namespace: string | null;
  service?: string;
  current: SignalWindow;
  baseline: SignalWindow;
  /** The open incident whose onset set the window, if any. */
  incident?: string;
  /** Checks failing now. */
  detections: Detection[];
  causes: RankedCause[];
  notes: string[];
  queries: string[];
}

export interface DiagnoseRequest {
  namespace?: string | null;
  service?: string;
  /** The current window's length; default: since the open incident's onset, else 1 minute. */
  windowMs?: number;
  at?: number;
}

const FAST_RANKING_MS = 15_000;
const SLOW_RANKING_EVERY_MS = 5000;
const MIN_CURRENT_MS = 5000;
const ONSET_GAP_MS = 1000;
/**
 * Detection's baseline ends on this grid (at most this much earlier than it could): the same
 * baseline then serves several rounds from the cache, and a round reads one window, not two.
 */
const BASELINE_STEP_MS = 5000;

export class DiagnosisService {
  readonly incidents: IncidentStore;
  private sloConfig: SloConfig;
  private readonly tracker: IncidentTracker;
  /** What localization reads (outlier events included); one object, so per-input caches hold. */
  private readonly fullInputs: SnapshotInputs;
  private timer: TimerHandle | undefined;
  private running = false;
  private busy = false;
  private inFlight: Promise<void> | undefined;
  private nextDue = 0;
  private readonly lastRanked = new Map<string, number>();
  /** Recently closed incidents: baselines keep out of them. */
  private readonly recent: Array<{ onsetAt: number; closedAt: number }> = [];
  private rounds = 0;
  /** Wall time the last round took (detection, and localization when it ran). */
  private lastRoundMs = 0;
  private startedAt = Number.NEGATIVE_INFINITY;
  private lastError: string | undefined;
  /** Baseline rows read once and reused by the following rounds (detection's and each incident's). */
  private readonly windows = new WindowCache(8);

  constructor(
    private readonly inputs: SnapshotInputs,
    private readonly clock: Clock,
    private readonly opts: DiagnosisOptions = {},
  ) {
    this.incidents = new IncidentStore(opts.databaseFile ?? ':memory:');
    this.fullInputs = { ...inputs, outlierEvents: opts.outlierEvents ?? inputs.outlierEvents };
    this.sloConfig = opts.slo ?? DEFAULT_SLO;
    this.tracker = new IncidentTracker({ closeAfterMs: () => this.sloConfig.closeAfterMs, windowMs: () => this.sloConfig.windowMs, nextId: () => this.incidents.nextId() });
    this.tracker.resume(this.incidents.openIncidents(), clock.now());
  }

  get slo(): SloConfig {
    return this.sloConfig;
  }

  set slo(s: SloConfig) {
    this.sloConfig = s;
  }

  start(): void {
    if (this.running || this.opts.detection === false) return;
    this.running = true;
    this.startedAt = this.clock.now();
    const interval = this.opts.intervalMs ?? 1000;
    this.nextDue = Math.floor(this.clock.now() / interval) * interval + interval + (this.opts.offsetMs ?? 300);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    this.incidents.close();
  }

  status(): Record<string, unknown> {
    return { detection: this.running, rounds: this.rounds, lastRoundMs: this.lastRoundMs, openIncidents: this.tracker.open().map((i) => i.id), ...(this.lastError && { lastError: this.lastError }) };
  }

  private schedule(): void {
    if (!this.running) return;
    const interval = this.opts.intervalMs ?? 1000;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.nextDue += interval;
      const now = this.clock.now();
      if (this.nextDue <= now) this.nextDue += Math.ceil((now - this.nextDue + 1) / interval) * interval; // late: skip missed rounds
      if (!this.busy) void this.evaluate();
      this.schedule();
    }, Math.max(0, this.nextDue - this.clock.now()));
  }

  /** One round: detect, open/close incidents, localize the open ones when due. */
  evaluate(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.round().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async round(): Promise<void> {
    this.busy = true;
    const started = performance.now();
    try {
      const at = this.clock.now();
      const s = this.sloConfig;
      const baselineEnd = Math.floor(this.baselineEnd(at - s.windowMs) / BASELINE_STEP_MS) * BASELINE_STEP_MS;
      const snap = await buildSnapshot(this.inputs, {
        at, light: true, cache: this.windows,
        current: { startMs: at - s.windowMs, endMs: at },
        baseline: { startMs: baselineEnd - s.baselineMs, endMs: baselineEnd },
      });
      // Until the store holds a window and half a baseline of this run's scrapes (after `up`, after
      // a restart of the control plane), comparisons with the baseline would compare with nothing.
      const warm = at - this.startedAt >= s.windowMs + s.baselineMs / 2;
      const failing = warm ? DETECTORS.flatMap((d) => d.evaluate(snap, s)) : [];
      const update = this.tracker.update(at, failing);
      for (const inc of update.opened) {
        this.incidents.insert(inc);
        this.log(`incident ${inc.id} opened in ${inc.namespace || '(no namespace)'}: ${inc.subject}`);
      }
      for (const { incident, detection, first } of update.detections) {
        this.incidents.recordDetection(incident.id, detection);
        if (first && !update.opened.includes(incident)) this.incidents.addTimeline(incident.id, { at, kind: 'detection', text: detection.text ?? `${detection.check} failed on ${detection.subject}` });
      }
      for (const inc of this.tracker.open()) {
        const last = this.lastRanked.get(inc.id);
        const due = last === undefined || at - inc.openedAt < FAST_RANKING_MS || at - last >= SLOW_RANKING_EVERY_MS;
        if (due) await this.rankIncident(inc, at, at);
      }
      for (const inc of update.closed) {
        this.recent.push({ onsetAt: inc.onsetAt, closedAt: at });
        if (this.recent.length > 20) this.recent.shift();
        const closedEntry = inc.timeline[inc.timeline.length - 1];
        await this.rankIncident(inc, at, inc.lastFailingAt);
        this.incidents.markClosed(inc.id, at);
        this.incidents.addTimeline(inc.id, closedEntry);
        this.lastRanked.delete(inc.id);
        this.log(`incident ${inc.id} closed; top cause: ${inc.causes[0] ? describeTarget(inc.causes[0].target) : 'none found'}`);
      }
      this.rounds++;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log(`diagnosis round failed: ${(e as Error).stack ?? e}`);
    } finally {
      this.busy = false;
      this.lastRoundMs = Math.round(performance.now() - started);
    }
  }

  private async rankIncident(inc: TrackedIncident, at: number, end: number): Promise<void> {
    const snap = await this.fullSnapshot(at, inc.onsetAt, Math.max(end, inc.onsetAt + MIN_CURRENT_MS), inc.namespace || null);
    const causes = localize(snap);
    const before = inc.causes[0];
    inc.causes = causes;
    this.lastRanked.set(inc.id, at);
    this.incidents.saveCauses(inc.id, causes, at);
    const top = causes[0];
    if (top && (!before || targetKey(before.target) !== targetKey(top.target))) {
      const entry = { at, kind: 'top-cause', text: `top cause: ${top.summary} (score ${top.score})`, data: { target: top.target, score: top.score } };
      inc.timeline.push(entry);
      this.incidents.addTimeline(inc.id, entry);
    }
  }

  /**
   * Where the baseline before `t` must end: just before `t`, unless an incident (open, or closed
   * within a baseline's length) overlaps the baseline it would have; then before that incident
   * began. A fault must not become the norm while it lasts, and the recovery from it must not
   * look like an anomaly against the faulty period; the last healthy period is the reference.
   */
  private baselineEnd(t: number): number {
    let end = t - ONSET_GAP_MS;
    const periods = [...this.tracker.open().map((i) => ({ onsetAt: i.onsetAt, closedAt: Infinity })), ...this.recent].sort((a, b) => b.onsetAt - a.onsetAt);
    for (const p of periods) if (p.closedAt > end - this.sloConfig.baselineMs && p.onsetAt - ONSET_GAP_MS < end) end = p.onsetAt - ONSET_GAP_MS;
    return end;
  }

  private fullSnapshot(at: number, onset: number, end: number, namespace: string | null): Promise<SignalSnapshot> {
    const baselineEnd = this.baselineEnd(onset);
    return buildSnapshot(
      this.fullInputs,
      { at, namespace, cache: this.windows, current: { startMs: onset, endMs: end }, baseline: { startMs: baselineEnd - this.sloConfig.baselineMs, endMs: baselineEnd } },
    );
  }

  /** An on-demand ranking (`GET /api/v1/diagnosis`, `meshmedic analyze` with a running mesh). */
  async diagnose(req: DiagnoseRequest = {}): Promise<DiagnosisReport> {
    const at = req.at ?? this.clock.now();
    const ns = req.namespace ?? null;
    const incident = req.windowMs === undefined ? this.tracker.open().find((i) => ns === null || i.namespace === ns) : undefined;
    const onset = incident ? incident.onsetAt : at - (req.windowMs ?? 60_000);
    const end = Math.max(at, onset + MIN_CURRENT_MS);
    const snap = await this.fullSnapshot(at, Math.min(onset, end - MIN_CURRENT_MS), end, ns);
    let causes = localize(snap, { limit: 50 });
    if (req.service) causes = focusCauses(causes, snap, req.service, ns ?? this.namespaceOf(snap, req.service));
    const s = this.sloConfig;
    const detectNow = await buildSnapshot(this.inputs, { at, light: true, namespace: ns, current: { startMs: at - s.windowMs, endMs: at }, baseline: snap.baseline });
    return {
      at, namespace: ns, ...(req.service && { service: req.service }), current: snap.current, baseline: snap.baseline,
      ...(incident && { incident: incident.id }),
      detections: DETECTORS.flatMap((d) => d.evaluate(detectNow, s)),
      causes: causes.slice(0, 10), notes: snap.notes, queries: snap.queries,
    };
  }

  private namespaceOf(s: SignalSnapshot, service: string): string {
    return s.entities.find((e) => e.kind === 'service' && e.service === service)?.namespace ?? 'default';
  }

  private log(line: string): void {
    this.opts.log?.(`diagnosis: ${line}`);
  }
}
