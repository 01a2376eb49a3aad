import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxySnapshot } from '../api/snapshot.js';
import { ConfigStore } from '../config/store.js';
import { createApi } from './api.js';
import { HttpError, sendError } from './http-json.js';
import { nodeIdOf, ServiceRegistry } from './registry.js';
import { buildMeshView } from './translate/mesh-view.js';
import { buildSnapshot } from './translate/snapshot.js';
import { XdsServer } from './xds-server.js';
import { TraceService, type TracingOptions } from './traces.js';
import { EmbeddedMetrics, timerClock, type EmbeddedMetricsOptions } from '../telemetry/scrape/embedded-metrics.js';
import { DiagnosisService, type DiagnosisOptions } from '../diagnosis/diagnosis-service.js';
import { ReadinessTracker } from '../diagnosis/signals/registry-signals.js';
import { createDashboardFront } from '../dashboard/front.js';
import { QuarantineSet } from '../recovery/quarantine.js';
import { RecoveryService, type RecoveryOptions } from '../recovery/recovery-service.js';
import { CaService, type CaServiceOptions } from '../security/ca-service.js';

// The control plane: config store + service registry -> one snapshot per proxy -> pushed over
// the xDS stream, with the CLI's API on the same HTTP server. Every change to the store or the
// registry marks the snapshots dirty; they are recomputed together on the next turn of the
// event loop (or at `flush()`, which tests call to be deterministic) and pushed to the proxies
// whose snapshot changed. A snapshot's version moves only when its content does.

export interface Clock {
  now(): number;
}

export interface ControlPlaneOptions {
  clock?: Clock;
  host?: string; // default 127.0.0.1
  port?: number; // default 0: any free port
  store?: ConfigStore; // default: a new, empty store
  rootNamespace?: string; // default istio-system
  pingIntervalMs?: number; // keep-alive lines on xDS streams (default 5000)
  debounceMs?: number; // how long changes gather before a recompute (default 0: next macrotask)
  /** Trace store bounds and OTLP export (traces.ts). */
  tracing?: TracingOptions;
  /** The embedded metrics store and the scraper of every sidecar's :15090 (src/telemetry/scrape/embedded-metrics.ts). */
  metrics?: EmbeddedMetricsOptions;
  /** Detection and incidents (src/diagnosis): given, the detection loop runs; absent, only on-demand diagnosis. */
  diagnosis?: DiagnosisOptions;
  /** Recovery (src/recovery): given, resumes actions left in flight and runs the policy and auto-mode loop; absent, only the API. */
  recovery?: RecoveryOptions;
  log?: (line: string) => void;
  /** API token (src/dashboard/access-check.ts): required by the API and the dashboard when set. */
  token?: string;
  /** The mesh CA (src/security): root in `<stateDir>/ca/`, trust domain, workload certificate lifetime. */
  security?: CaServiceOptions;
}

interface NodeSnapshot {
  hash: string;
  counter: number;
  snapshot: ProxySnapshot;
}

export class ControlPlane {
  readonly store: ConfigStore;
  readonly registry: ServiceRegistry;
  readonly traces: TraceService;
  readonly metrics: EmbeddedMetrics;
  readonly diagnosis: DiagnosisService;
  /** Instances recovery took out of load balancing (sent as unhealthy whatever their readiness). */
  readonly quarantine = new QuarantineSet();
  readonly recovery: RecoveryService;
  private readonly clock: Clock;
  private readonly xds: XdsServer;
  private readonly snapshots = new Map<string, NodeSnapshot>();
  private notes: string[] = [];
  private dirty = true;
  private timer?: NodeJS.Timeout;
  private server?: Server;
  private baseUrl?: string;
  private recomputes = 0;
  private readonly unwatch: Array<() => void> = [];
  private configVersionAtStart = 0;
  private caService?: CaService;

  constructor(private readonly opts: ControlPlaneOptions = {}) {
    this.clock = opts.clock ?? { now: Date.now };
    this.store = opts.store ?? new ConfigStore(() => this.clock.now());
    this.registry = new ServiceRegistry(this.store);
    this.traces = new TraceService({ ...opts.tracing, clock: this.clock, log: opts.log });
    this.metrics = new EmbeddedMetrics(() => this.registry.instances(), opts.metrics, timerClock(opts.clock));
    this.diagnosis = this.createDiagnosis();
    this.recovery = new RecoveryService(
      { store: this.store, registry: this.registry, quarantine: this.quarantine, diagnosis: this.diagnosis, clock: timerClock(opts.clock), inputs: { metrics: this.metrics.source, resources: () => this.store.all(), instances: () => this.registry.instances() } },
      { databaseFile: opts.diagnosis?.databaseFile, log: opts.log, ...opts.recovery },
    );
    this.xds = new XdsServer({ snapshotFor: (id) => this.snapshotFor(id), now: () => this.clock.now(), pingIntervalMs: opts.pingIntervalMs });
    this.unwatch.push(this.store.watch(() => this.markDirty()), this.registry.watch(() => this.markDirty()), this.quarantine.watch(() => this.markDirty()));
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('control plane is not started');
    return this.baseUrl;
  }

  /** The mesh CA (available once started). */
  get ca(): CaService {
    if (!this.caService) throw new Error('control plane is not started');
    return this.caService;
  }

  async start(): Promise<{ url: string }> {
    this.caService = await CaService.create(
      (id) => this.registry.instances().find((i) => nodeIdOf(i) === id),
      { log: this.opts.log, ...this.opts.security },
    );
    const ca = this.caService;
    const api = createApi({
      store: this.store,
      registry: this.registry,
      xds: this.xds,
      currentSnapshot: (id) => this.snapshotFor(id),
      status: () => this.status(),
      traces: this.traces,
      metrics: this.metrics,
      diagnosis: this.diagnosis,
      recovery: this.recovery,
    });
    const dashboard = createDashboardFront({ store: this.store, registry: this.registry, token: this.opts.token });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://control-plane');
      if (this.xds.handle(req, res, url)) return;
      if (ca.handle(req, res, url)) return;
      if (dashboard(req, res, url)) return;
      api(req, res, url)
        .then((handled) => {
          if (!handled) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${url.pathname}`);
        })
        .catch((e) => sendError(res, e));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.baseUrl = `http://${addr.address}:${addr.port}`;
    this.traces.start();
    this.metrics.start();
    this.configVersionAtStart = this.store.version;
    if (this.opts.diagnosis) this.diagnosis.start();
    if (this.opts.recovery) this.recovery.start();
    this.flush();
    return { url: this.baseUrl };
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.xds.close();
    for (const u of this.unwatch.splice(0)) u();
    this.registry.close();
    await this.traces.stop();
    await this.metrics.stop();
    await this.recovery.stop();
    await this.diagnosis.stop();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The node's current snapshot (recomputed first if anything changed), or undefined for an unknown node. */
  snapshotFor(nodeId: string): ProxySnapshot | undefined {
    if (this.dirty) this.recompute();
    return this.snapshots.get(nodeId)?.snapshot;
  }

  /** Recompute now and push what changed (instead of waiting for the debounce). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty) this.recompute();
    this.xds.pushAll();
  }

  /** Notes from the last translation: fields not implemented, conflicts settled. */
  translationNotes(): string[] {
    return [...this.notes];
  }

  status(): Record<string, unknown> {
    const proxies = this.xds.states(this.snapshots.keys());
    return {
      url: this.baseUrl,
      configVersion: this.store.version,
      resources: this.store.all().length,
      instances: this.registry.instances().length,
      services: this.registry.services().length,
      proxies: { known: this.snapshots.size, connected: proxies.filter((p) => p.connected).length, synced: proxies.filter((p) => p.status === 'SYNCED').length },
      recomputes: this.recomputes,
      tracing: this.traces.status(),
      metrics: this.metrics.status(),
      diagnosis: this.diagnosis.status(),
      recovery: this.recovery.status(),
      ca: this.caService?.status(),
      process: processMemory(),
      notes: this.notes,
    };
  }

  /** Diagnosis reads the mesh through interfaces only (metrics, traces, config history, registry). */
  private createDiagnosis(): DiagnosisService {
    const readiness = new ReadinessTracker(() => this.clock.now());
    readiness.observe(this.registry.instances());
    this.unwatch.push(this.registry.watch(() => readiness.observe(this.registry.instances())));
    const inputs = {
      metrics: this.metrics.source,
      traces: this.traces.store,
      resources: () => this.store.all(),
      // The config the control plane started with is the mesh's state, not a change.
      changes: () => this.store.changesSince(this.configVersionAtStart),
      instances: () => this.registry.instances(),
      configVersion: () => this.store.version,
      readiness,
      withdrawn: (namespace: string, name: string) => this.quarantine.has(namespace, name),
      outlierEvents: true,
    };
    return new DiagnosisService(inputs, timerClock(this.opts.clock), { log: this.opts.log, ...this.opts.diagnosis });
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer || !this.server) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.debounceMs ?? 0);
  }

  private recompute(): void {
    this.dirty = false;
    this.recomputes++;
    const view = buildMeshView(this.store, this.registry, this.opts.rootNamespace);
    view.instances = this.quarantine.apply(view.instances);
    const notes = new Set<string>();
    const seen = new Set<string>();
    for (const inst of view.instances) {
      const id = nodeIdOf(inst);
      seen.add(id);
      let translated;
      try {
        translated = buildSnapshot(view, inst);
      } catch (e) {
        // A translation bug must not reach proxies: the node keeps its last snapshot.
        notes.add(`proxy ${id}: translation failed, last snapshot kept: ${(e as Error).stack ?? e}`);
        continue;
      }
      for (const n of translated.notes) notes.add(n);
      const hash = translated.snapshot.version;
      const prev = this.snapshots.get(id);
      if (prev?.hash === hash) continue;
      const counter = (prev?.counter ?? 0) + 1;
      // Counter for people and ordering, hash so a proxy never mistakes other content for what it has.
      this.snapshots.set(id, { hash, counter, snapshot: { ...translated.snapshot, version: `${counter}-${hash}` } });
    }
    for (const id of [...this.snapshots.keys()]) if (!seen.has(id)) this.snapshots.delete(id);
    this.notes = [...notes].sort();
  }
}

/** The control plane's own memory, for `status` and the soak bench (bounded stores must keep it flat). */
function processMemory(): { rssBytes: number; heapUsedBytes: number } {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed };
}
