import type { ProxyNode, ProxySnapshot } from '../api/snapshot.js';
import { systemClock, type Clock, type RandomSource } from './clock.js';
import { CompiledSnapshot } from './compiled-snapshot.js';
import type { HttpFilterFactory } from './filters/http-filter.js';
import { faultInjectionFilter } from './filters/fault-injection.js';
import { rbacFilter } from './filters/rbac.js';
import { jwtAuthnFilter } from './filters/jwt-authn.js';
import { networkDelayFilter } from './chaos/network-faults.js';
import { completionTelemetryFilters, peerMetadataFilter } from '../telemetry/sidecar/filters.js';
import { tracingFilter } from '../telemetry/tracing/tracing-filter.js';
import type { SpanSink } from '../telemetry/tracing/span.js';
import { ListenerManager } from './listeners/listener-manager.js';
import type { ProxyContext } from './proxy-context.js';
import { validateSnapshot } from './snapshot-validation.js';
import { Stats } from './stats.js';
import { HostRegistry } from './upstream/host-registry.js';
import { OutlierDetectors } from './upstream/outlier-detectors.js';
import type { WorkloadCredentials } from './tls/workload-credentials.js';

// The data plane of one workload instance: it runs one snapshot at a time. A new snapshot is
// validated whole first; a bad one is rejected with the reason (the NACK) and the running one
// stays in force untouched. A good one is compiled, swapped in at once, and the listener
// sockets are reconciled with it.

export interface SidecarOptions {
  clock?: Clock;
  /** Uniform [0,1) source for weights, RANDOM and LEAST_REQUEST (tests inject a seeded one). */
  random?: RandomSource;
  /** When set, snapshots for another node are rejected. */
  node?: ProxyNode;
  /** HTTP filters before the router, in order (resilience, telemetry, authz plug in here). */
  httpFilters?: readonly HttpFilterFactory[];
  log?: (message: string) => void;
  /** Where finished trace spans go (the process's reporter to the control plane); absent: none are kept. */
  spanSink?: SpanSink;
  /** This workload's certificate for mutual TLS (src/proxy/tls); absent: plaintext only. */
  tls?: WorkloadCredentials;
}

export type ApplyResult = { ok: true } | { ok: false; error: string };

export class Sidecar implements ProxyContext {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly stats = new Stats();
  readonly spanSink: SpanSink | undefined;
  readonly tls: WorkloadCredentials | null;
  private compiled: CompiledSnapshot | null = null;
  private readonly hosts = new HostRegistry();
  /** Outlier detectors by outbound cluster, kept across snapshots, and their ejection events. */
  readonly outliers: OutlierDetectors;
  private readonly listeners: ListenerManager;
  private readonly node: ProxyNode | undefined;
  private readonly logFn: (message: string) => void;
  private stopped = false;

  constructor(options: SidecarOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.node = options.node;
    this.logFn = options.log ?? (() => undefined);
    this.spanSink = options.spanSink;
    this.tls = options.tls ?? null;
    this.outliers = new OutlierDetectors({ clock: this.clock, stats: this.stats, log: (m) => this.log(m) });
    this.listeners = new ListenerManager(this, options.httpFilters ?? [peerMetadataFilter, tracingFilter, jwtAuthnFilter, rbacFilter, faultInjectionFilter, networkDelayFilter, ...completionTelemetryFilters]);
  }

  get current(): CompiledSnapshot | null {
    return this.compiled;
  }

  /** The snapshot in force, as received. */
  get snapshot(): ProxySnapshot | null {
    return this.compiled?.snapshot ?? null;
  }

  applySnapshot(input: ProxySnapshot): ApplyResult {
    if (this.stopped) return { ok: false, error: 'sidecar is stopped' };
    const errors = validateSnapshot(input, this.node?.id);
    if (errors.length) return this.reject(errors.join('; '));
    const snapshot = structuredClone(input); // ours now: callers may reuse their object
    this.hosts.begin();
    let next: CompiledSnapshot;
    try {
      next = new CompiledSnapshot(snapshot, this.hosts, this.random, this.stats);
    } catch (e) {
      this.hosts.abort();
      return this.reject((e as Error).message);
    }
    this.outliers.reconcile(next.clusters.values()); // ejections carry over before any request sees `next`
    this.compiled = next;
    this.hosts.commit();
    this.listeners.reconcile(snapshot.listeners);
    this.stats.inc('control_plane.snapshot_accepted');
    this.log(`applied snapshot ${snapshot.version}`);
    return { ok: true };
  }

  /** Resolves when the listener binds of the snapshots applied so far are done (see `bindErrors`). */
  settled(): Promise<void> {
    return this.listeners.settled();
  }

  get bindErrors(): ReadonlyMap<string, string> {
    return this.listeners.bindErrors;
  }

  /** Closes every listener (requests in flight get `graceMs` to finish) and every upstream pool. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.outliers.stopAll();
    await this.listeners.closeAll(graceMs);
    await this.hosts.destroyAll();
  }

  log(message: string): void {
    this.logFn(message);
  }

  private reject(error: string): ApplyResult {
    this.stats.inc('control_plane.snapshot_rejected');
    this.log(`rejected snapshot: ${error}`);
    return { ok: false, error };
  }
}
