import type { KindId } from '../../api/kinds.js';
import { ConfigStore } from '../../config/store.js';
import { kindByName } from '../../controlplane/kind-names.js';
import { DEFAULT_SLO, type SloConfig } from '../../diagnosis/detection/slo.js';
import { DiagnosisService } from '../../diagnosis/diagnosis-service.js';
import { IncidentStore } from '../../diagnosis/incidents/incident-store.js';
import type { Incident, RankedCause } from '../../diagnosis/model.js';
import { systemClock, type Clock, type TimerHandle } from '../../proxy/clock.js';
import type { PlanContext } from '../../recovery/actions/action.js';
import { AuditLog } from '../../recovery/audit-log.js';
import { Executor } from '../../recovery/executor.js';
import { IncidentWork } from '../../recovery/incident-work.js';
import type { RecoveryAction } from '../../recovery/model.js';
import { proposalRound } from '../../recovery/proposal-policy.js';
import { KubeApplier } from '../../recovery/platform/kube-applier.js';
import type { RecoverySettings } from '../../recovery/settings.js';
import { MetricsSloProbe, type SloProbe } from '../../recovery/slo-watch.js';
import type { MetricsSource } from '../../telemetry/metrics-source.js';
import { ClusterWatcher } from './cluster-watch.js';
import { ConfigHistory, keepsHistory } from './config-history.js';
import { discoverKinds } from './discovery.js';
import type { KubeClient } from './kube-client.js';
import { KubePlatform } from './kube-platform.js';
import { podInstances } from './pod-instances.js';
import type { ZipkinTraceSource } from './zipkin-traces.js';
import { QUARANTINED_LABEL } from './recovery-requests.js';

// meshmedic in the cluster (`meshmedic controller --platform kube`): the detect -> recover ->
// verify loop of the local control plane, over the Kubernetes API and Prometheus.
//
// - Watches the cluster's Istio config, Pods, Services and Deployments into a config store
//   (ClusterWatcher), recording every version of the Istio objects in the state database
//   (ConfigHistory): diagnosis's config changes and revert-config's `previous` come from there.
// - Diagnoses every interval through Prometheus (and Zipkin's traces with --traces, fetched
//   each round) (DiagnosisService's detection loop: incidents
//   opened, ranked and closed in the state database, as on the local mesh). With `causes`
//   instead (a file of ranked causes), one incident with those causes is opened: a replay of a
//   diagnosis made elsewhere.
// - Every interval, for each open incident whose top cause has been stable for
//   settings.stableCauseMs: plans with recovery's planner and safety limits and records the
//   plan in the audit log (`proposed`). In auto mode the executor carries the actions out in
//   order through KubePlatform (server-side apply, pod and Deployment patches), verifies each on
//   the SLO, and rolls back exactly what did not help. In manual mode the proposals stay
//   recorded (and logged); nothing is written to the cluster.
// - On start, actions a previous run left `applying` are rolled back and `verifying` ones
//   verified again (the executor's crash resume).

/** What the controller watches: Istio (and Gateway API) config, and what the registry and the platform read. */
const PLATFORM_KINDS: readonly KindId[] = ['Pod', 'Service', 'Deployment'];

export interface KubeControllerOptions {
  /** The state database (`<state>/meshmedic.db`): history, incidents, audit log. */
  databaseFile: string;
  /** Prometheus (diagnosis and verification). */
  metrics?: MetricsSource;
  /** Zipkin (--traces): refreshed every round, read by diagnosis. */
  traces?: ZipkinTraceSource;
  /** Ranked causes to act on instead of diagnosing (one incident). */
  causes?: RankedCause[];
  /** Diagnose and recover in this namespace only (default: all). */
  namespace?: string;
  auto: boolean;
  intervalMs: number;
  settings: RecoverySettings;
  slo?: SloConfig;
  clock?: Clock;
  /** Another SLO probe than Prometheus's (tests). */
  probe?: SloProbe;
  /** How long scale() waits for new pods. */
  scaleWaitMs?: number;
  log?: (line: string) => void;
}

export class KubeController {
  readonly store = new ConfigStore();
  readonly platform: KubePlatform;
  readonly audit: AuditLog;
  readonly incidents: IncidentStore;
  readonly executor: Executor;
  history: ConfigHistory | undefined;
  private watcher: ClusterWatcher | undefined;
  private readonly diagnosis: DiagnosisService | undefined;
  private readonly clock: Clock;
  private readonly busy = new IncidentWork((line) => this.log(line));
  private timer: TimerHandle | undefined;
  private running = false;
  private ticking = false;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: KubeControllerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.platform = new KubePlatform(client, { now: () => this.clock.now(), ...(opts.scaleWaitMs !== undefined && { scaleWaitMs: opts.scaleWaitMs }) });
    const slo = opts.slo ?? DEFAULT_SLO;
    if (opts.metrics) {
      this.diagnosis = new DiagnosisService({
        metrics: opts.metrics,
        resources: () => this.store.all(),
        instances: () => this.instances(),
        changes: () => this.history?.changes(this.clock.now() - 3_600_000) ?? [],
        configVersion: () => this.store.version,
        ...(opts.traces && { traces: opts.traces }),
      }, this.clock, { databaseFile: opts.databaseFile, intervalMs: opts.intervalMs, slo, outlierEvents: false, log: opts.log });
      this.incidents = this.diagnosis.incidents;
    } else {
      this.incidents = new IncidentStore(opts.databaseFile);
    }
    this.audit = new AuditLog(opts.databaseFile);
    const metrics = opts.metrics;
    const probe: SloProbe = opts.probe ?? (metrics
      ? new MetricsSloProbe({ metrics, resources: () => this.store.all(), instances: () => this.instances() }, () => slo)
      : { measure: async () => { throw new Error('no metrics source (--prometheus) to verify with'); } });
    this.executor = new Executor({
      audit: this.audit,
      applier: new KubeApplier(this.platform),
      probe,
      clock: this.clock,
      settings: () => this.opts.settings,
      slo: () => this.diagnosis?.slo ?? slo,
      incident: (id) => this.incidents.get(id),
      timeline: (id, e) => this.incidents.addTimeline(id, e),
      ready: (ns, name) => this.instances().some((i) => i.namespace === ns && i.name === name && i.healthy),
      log: opts.log,
    });
  }

  /** Lists and watches the cluster, resumes what a previous run left in flight, starts the loops. */
  async start(): Promise<void> {
    this.running = true;
    this.history = new ConfigHistory(this.opts.databaseFile, this.client.serverUrl, () => this.clock.now());
    const served = await discoverKinds(this.client);
    const kinds = [...served.values()].filter((k) => keepsHistory(k.info) || PLATFORM_KINDS.includes(k.info.id));
    this.watcher = new ClusterWatcher(this.client, this.store, kinds, { clock: this.clock, history: this.history, log: this.opts.log });
    await this.watcher.start();
    this.log(`watching ${kinds.length} kinds on ${this.client.serverUrl}; ${this.store.all().length} objects; mode ${this.opts.auto ? 'auto' : 'manual'}`);
    for (const a of this.audit.inState('applying', 'verifying')) {
      this.log(`resuming ${a.id} (${a.kind}, ${a.state}) from the audit log`);
      this.busy.track(a.incidentId, this.executor.resume(a));
    }
    if (this.opts.causes?.length && !this.incidents.openIncidents().some((i) => i.subject === REPLAY_SUBJECT)) this.openReplay(this.opts.causes);
    this.diagnosis?.start();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.watcher?.stop();
    // Actions in flight are not waited for (a verification window can outlast the pod's grace
    // period): the audit log has them `applying` or `verifying`, and the next start rolls back
    // or verifies them (start()).
    if (this.diagnosis) await this.diagnosis.stop();
    else this.incidents.close();
    this.audit.close();
    this.history?.close();
  }

  /** Waits for the actions in flight to end (tests, shutdown). */
  async idle(): Promise<void> {
    await this.busy.idle();
  }

  /** One round: plan for open incidents whose top cause is stable; run the plan in auto mode. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.clock.now();
      await this.refreshTraces(now);
      const open = this.incidents.openIncidents().filter((i) => !this.opts.namespace || i.namespace === this.opts.namespace);
      await proposalRound(open, now, {
        audit: this.audit, executor: this.executor, busy: this.busy, settings: { ...this.opts.settings, auto: this.opts.auto },
        context: (inc) => this.context(inc),
        run: (id, actions) => this.run(id, actions),
        log: (line) => this.log(line),
      });
    } finally {
      this.ticking = false;
    }
  }

  private run(incidentId: string, actions: RecoveryAction[]): void {
    this.busy.track(incidentId, this.executor.runInOrder(actions));
  }

  /** The planner's view: the watched config and pods, and the recorded change history. */
  private context(inc: Incident): PlanContext {
    return {
      resources: (kind, namespace) => {
        const info = kindByName(kind);
        return info ? this.store.list(info.id, namespace) : [];
      },
      changes: () => this.history?.changes() ?? [],
      instances: () => this.instances(),
      quarantined: (ns, name) => this.store.get('Pod', ns, name)?.raw.metadata?.labels?.[QUARANTINED_LABEL] === 'true',
      detections: inc.detections,
      causes: inc.causes,
      settings: this.opts.settings,
    };
  }

  private instances() {
    return podInstances(this.store.list('Pod').map((r) => r.raw));
  }

  /** The traces diagnosis's next rounds read: the last SLO window and baseline (a failing query is logged; diagnosis goes on without new traces). */
  private async refreshTraces(now: number): Promise<void> {
    if (!this.opts.traces) return;
    const slo = this.diagnosis?.slo ?? this.opts.slo ?? DEFAULT_SLO;
    try {
      await this.opts.traces.refresh(now - slo.windowMs - slo.baselineMs - this.opts.intervalMs, now);
    } catch (e) {
      this.log(`traces: ${(e as Error).message}`);
    }
  }

  private openReplay(causes: RankedCause[]): void {
    const at = this.clock.now();
    const top = causes[0];
    const inc: Incident = {
      id: this.incidents.nextId(), status: 'open', namespace: top?.target.namespace ?? '', subject: REPLAY_SUBJECT, openedAt: at, onsetAt: at,
      detections: [], causes: [], timeline: [{ at, kind: 'opened', text: `opened: ${causes.length} cause(s) from --causes` }],
    };
    this.incidents.insert(inc);
    this.incidents.saveCauses(inc.id, causes, at);
    this.log(`incident ${inc.id} opened with ${causes.length} cause(s) from --causes`);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick()
        .catch((e) => this.log(`round failed: ${(e as Error).stack ?? e}`))
        .finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  private log(line: string): void {
    this.opts.log?.(`controller: ${line}`);
  }
}

/** The subject of the incident opened for causes given by file. */
export const REPLAY_SUBJECT = 'causes given by file';
