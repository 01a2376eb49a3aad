import type { ConfigStore } from '../config/store.js';
import { kindByName } from '../controlplane/kind-names.js';
import type { ServiceRegistry } from '../controlplane/registry.js';
import type { DiagnosisService } from '../diagnosis/diagnosis-service.js';
import type { Incident, RankedCause } from '../diagnosis/model.js';
import type { Clock, TimerHandle } from '../proxy/clock.js';
import type { PlanContext } from './actions/action.js';
import { Applier } from './applier.js';
import { AuditLog } from './audit-log.js';
import { RecoveryError } from './errors.js';
import { Executor } from './executor.js';
import { IncidentWork } from './incident-work.js';
import type { RecoveryAction } from './model.js';
import { planRecovery, type Plan } from './planner.js';
import { proposalRound } from './proposal-policy.js';
import { LocalPlatform } from './platform/local-platform.js';
import type { Platform } from './platform/platform.js';
import type { QuarantineSet } from './quarantine.js';
import { DEFAULT_SETTINGS, type RecoverySettings } from './settings.js';
import { MetricsSloProbe, type SloInputs, type SloProbe } from './slo-watch.js';

// Recovery inside the control plane: plans from an incident's ranked causes, runs plans (on
// request, or by itself in auto mode once the top cause is stable), approves and rolls back
// single actions, applies the expiry policy, and on start takes over what a previous control
// plane left half-done (crash safety). Time is the injected clock's.

export interface RecoveryOptions {
  /** The audit log (default: the diagnosis database file; in memory without one). */
  databaseFile?: string;
  settings?: RecoverySettings;
  /** The state directory of `meshmedic up` (the mesh daemon's socket, for restart and scale). */
  stateRoot?: string;
  /** Another platform than the local mesh (tests, Kubernetes later). */
  platform?: Platform;
  /** Another SLO probe than the embedded metrics (the tick and tests). */
  probe?: SloProbe;
  /** How often the policy and auto mode look at incidents (ms, default 1000). */
  tickMs?: number;
  log?: (line: string) => void;
}

export interface RecoveryDeps {
  store: ConfigStore;
  registry: ServiceRegistry;
  quarantine: QuarantineSet;
  diagnosis: DiagnosisService;
  inputs: SloInputs;
  clock: Clock;
}

export interface PlanRequest {
  namespace?: string;
  service?: string;
  incident?: string;
}

export interface PlanAnswer extends Plan {
  actions: RecoveryAction[] | Plan['actions'];
}

export class RecoveryService {
  readonly audit: AuditLog;
  readonly executor: Executor;
  readonly platform: Platform;
  private settingsNow: RecoverySettings;
  private readonly busy = new IncidentWork((line) => this.log(line));
  private readonly readySince = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private running = false;
  private ticking = false;

  constructor(private readonly d: RecoveryDeps, private readonly opts: RecoveryOptions = {}) {
    this.audit = new AuditLog(opts.databaseFile ?? ':memory:');
    this.settingsNow = opts.settings ?? DEFAULT_SETTINGS;
    this.platform = opts.platform ?? new LocalPlatform(opts.stateRoot, d.quarantine);
    const probe = opts.probe ?? new MetricsSloProbe(d.inputs, () => d.diagnosis.slo);
    this.executor = new Executor({
      audit: this.audit,
      applier: new Applier(d.store, this.platform),
      probe,
      clock: d.clock,
      settings: () => this.settingsNow,
      slo: () => d.diagnosis.slo,
      incident: (id) => d.diagnosis.incidents.get(id),
      timeline: (id, e) => d.diagnosis.incidents.addTimeline(id, e),
      ready: (ns, name) => !!d.registry.instance(ns, name)?.healthy,
      log: opts.log,
    });
  }

  get settings(): RecoverySettings {
    return this.settingsNow;
  }

  set settings(s: RecoverySettings) {
    this.settingsNow = s;
  }

  /** Takes over what a previous control plane left in flight, then starts the policy and auto-mode loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const a of this.audit.inState('verifying', 'verified')) {
      if (a.liftedAt !== undefined) continue;
      for (const op of a.platform) if (op.op === 'quarantine') this.d.quarantine.set(op.namespace, op.instance, true);
    }
    for (const a of this.audit.inState('applying', 'verifying')) {
      this.log(`resuming ${a.id} (${a.kind}, ${a.state}) from the audit log`);
      this.busy.track(a.incidentId, this.executor.resume(a).then(() => this.continueAuto(a.incidentId)));
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.audit.close();
  }

  status(): Record<string, unknown> {
    return { auto: this.settingsNow.auto, platform: this.platform.name, inFlight: this.busy.ids(), quarantined: this.d.quarantine.list() };
  }

  /** The plan for the open incident of a namespace/service, without recording or running it. */
  plan(req: PlanRequest): PlanAnswer {
    const inc = this.findIncident(req);
    return planRecovery({ id: inc.id, causes: this.focus(inc, req.service) }, this.context(inc));
  }

  /** Records the plan and runs it in the background; resolves once its first action is applied (or none could be). */
  async run(req: PlanRequest, mode: 'auto' | 'manual' = 'manual'): Promise<PlanAnswer> {
    const inc = this.findIncident(req);
    if (this.busy.has(inc.id)) throw new RecoveryError('E_RECOVERY_BUSY', `an action of incident ${inc.id} is being applied or verified; watch it with: meshmedic recover --wait`);
    for (const old of this.audit.byIncident(inc.id)) this.executor.supersede(old.id, 'a new plan replaced it');
    const plan = planRecovery({ id: inc.id, causes: this.focus(inc, req.service) }, this.context(inc));
    const actions = this.executor.record(inc.id, plan, mode);
    await this.startInBackground(inc.id, (started) => this.executor.runInOrder(actions, started));
    return { ...plan, actions: actions.map((a) => this.audit.get(a.id) ?? a) };
  }

  actions(incidentId?: string): RecoveryAction[] {
    return incidentId ? this.audit.byIncident(incidentId) : this.audit.list();
  }

  action(id: string): RecoveryAction {
    const a = this.audit.get(id);
    if (!a) throw new RecoveryError('E_RECOVERY_ACTION_NOT_FOUND', `no recovery action ${id} (list them with: meshmedic incidents show INCIDENT)`);
    return a;
  }

  /** Runs one proposed action (manual mode); resolves once it is applied (or refused). */
  async approve(id: string): Promise<RecoveryAction> {
    const a = this.action(id);
    if (a.state !== 'proposed') throw new RecoveryError('E_RECOVERY_STATE', `action ${id} is ${a.state}; only a proposed action can be approved`);
    if (this.busy.has(a.incidentId)) throw new RecoveryError('E_RECOVERY_BUSY', `an action of incident ${a.incidentId} is being applied or verified`);
    await this.startInBackground(a.incidentId, async (started) => {
      const state = await this.executor.attempt(a, started);
      if (state === 'verified') for (const other of this.audit.byIncident(a.incidentId)) if (other.id !== a.id) this.executor.supersede(other.id, `${a.id} was verified`);
    });
    return this.action(id);
  }

  /** Undoes an applied action by hand. */
  async rollback(id: string): Promise<RecoveryAction> {
    const a = this.action(id);
    if (a.state !== 'verifying' && a.state !== 'verified') throw new RecoveryError('E_RECOVERY_STATE', `action ${id} is ${a.state}; only an applied action (verifying or verified) can be rolled back`);
    await this.executor.rollback(a, 'rolled back by hand');
    return this.action(id);
  }

  /** One round of the policy and of auto mode (the loop calls it every tick; tests call it directly). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.d.clock.now();
      await this.expire(now);
      await proposalRound(this.d.diagnosis.incidents.openIncidents(), now, {
        audit: this.audit, executor: this.executor, busy: this.busy, settings: this.settingsNow,
        context: (inc) => this.context(inc),
        run: (id, actions) => void this.startInBackground(id, (started) => this.executor.runInOrder(actions, started)),
        log: (line) => this.log(line),
      });
    } finally {
      this.ticking = false;
    }
  }

  /** The policy: quarantines end (docs/recovery.md); config and scale actions stay. */
  private async expire(now: number): Promise<void> {
    for (const a of this.audit.inState('verified')) {
      if (a.kind !== 'quarantine-instance' || a.liftedAt !== undefined || !a.cause.instance) continue;
      const key = `${a.cause.namespace}/${a.cause.instance}`;
      if (a.readyAtApply === false) {
        const ready = !!this.d.registry.instance(a.cause.namespace, a.cause.instance)?.healthy;
        if (!ready) this.readySince.delete(key);
        else if (!this.readySince.has(key)) this.readySince.set(key, now);
        const since = this.readySince.get(key);
        if (this.settingsNow.liftQuarantineAfterMs > 0 && since !== undefined && now - since >= this.settingsNow.liftQuarantineAfterMs) {
          this.readySince.delete(key);
          await this.executor.rollback(a, `instance ${a.cause.instance} has been ready again for ${Math.round((now - since) / 1000)} s: quarantine lifted`, 'expired');
        }
      } else if (this.settingsNow.quarantineTtlMs > 0 && now - (a.appliedAt ?? now) >= this.settingsNow.quarantineTtlMs) {
        await this.executor.rollback(a, `quarantine held for ${Math.round(this.settingsNow.quarantineTtlMs / 1000)} s: lifted (a new incident follows if the instance still fails)`, 'expired');
      }
    }
  }

  private continueAuto(incidentId: string): void {
    if (!this.settingsNow.auto) return;
    const actions = this.audit.byIncident(incidentId);
    if (actions.some((a) => a.state === 'verified')) return;
    const pending = actions.filter((a) => a.state === 'proposed' && a.mode === 'auto');
    if (pending.length) void this.startInBackground(incidentId, (started) => this.executor.runInOrder(pending, started));
  }

  /** Starts work on an incident (one at a time per incident); resolves when `started` is called or the work ends. */
  private startInBackground(incidentId: string, work: (started: () => void) => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.busy.track(incidentId, work(resolve).finally(() => resolve()));
    });
  }

  /** Waits for every action in flight to end (tests, shutdown). */
  async idle(): Promise<void> {
    await this.busy.idle();
  }

  private findIncident(req: PlanRequest): Incident {
    if (req.incident) {
      const inc = this.d.diagnosis.incidents.get(req.incident);
      if (!inc) throw new RecoveryError('E_RECOVERY_NO_INCIDENT', `no incident ${req.incident}`);
      return inc;
    }
    const open = this.d.diagnosis.incidents.openIncidents().filter((i) => !req.namespace || i.namespace === req.namespace);
    const about = req.service ? open.filter((i) => i.subject.includes(` ${req.service}.`) || i.causes.some((c) => mentions(c, req.service!))) : open;
    const inc = about[about.length - 1];
    if (!inc) {
      const where = [req.namespace && `in namespace ${req.namespace}`, req.service && `about service ${req.service}`].filter(Boolean).join(' ');
      throw new RecoveryError('E_RECOVERY_NO_INCIDENT', `no open incident${where ? ` ${where}` : ''}: nothing to recover (see: meshmedic incidents)`);
    }
    return inc;
  }

  /** With -r SERVICE: the causes about that service first (the others after, in their order). */
  private focus(inc: Incident, service: string | undefined): RankedCause[] {
    if (!service) return inc.causes;
    return [...inc.causes.filter((c) => mentions(c, service)), ...inc.causes.filter((c) => !mentions(c, service))];
  }

  private context(inc: Incident): PlanContext {
    const store = this.d.store;
    return {
      resources: (kind, namespace) => {
        const info = kindByName(kind);
        return info ? store.list(info.id, namespace) : [];
      },
      changes: () => store.changesSince(0),
      instances: () => this.d.registry.instances(),
      quarantined: (ns, name) => this.d.quarantine.has(ns, name),
      detections: inc.detections,
      causes: inc.causes,
      settings: this.settingsNow,
    };
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick()
        .catch((e) => this.log(`tick failed: ${(e as Error).stack ?? e}`))
        .finally(() => this.schedule());
    }, this.opts.tickMs ?? 1000);
  }

  private log(line: string): void {
    this.opts.log?.(`recovery: ${line}`);
  }
}

function mentions(c: RankedCause, service: string): boolean {
  const t = c.target;
  return t.service === service || t.resource?.name === service || t.workload?.startsWith(`${service}-`) === true;
}
