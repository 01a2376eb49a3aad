import type { Clock, TimerHandle } from '../clock.js';
import type { Stats } from '../stats.js';
import type { HostOutcomes, RuntimeCluster } from './cluster.js';
import type { UpstreamHost } from './host.js';
import type { EjectionReason, OutlierEventLog } from './outlier-events.js';
import type { OutlierSettings } from './outlier-settings.js';

// Outlier detection of one outbound cluster, as Envoy runs it for Istio (non-split mode:
// connect failures and resets arrive as 503, timeouts as 504):
// - every try's outcome updates the host's consecutive 5xx and gateway (502/503/504) counters;
//   a non-5xx resets both, a 5xx that is not a gateway error resets the gateway one;
// - a counter reaching its threshold ejects the host at once, if the max-ejection rule allows
//   ((ejected+1)/hosts <= maxEjectionPercent, or no host ejected yet: one may always go) and the
//   cluster is not in panic (below minHealthPercent Istio suspends detection); the counter is
//   reset either way (Envoy's onConsecutiveErrorWorker);
// - an ejection lasts min(base x multiplier, max); the multiplier grows by one per ejection and
//   shrinks by one at each sweep after the host has been back for a whole interval;
// - ejected hosts return only at the interval sweep (Envoy's interval timer). Sweeps stay on
//   Envoy's grid (detector start + k x interval) but the timer is armed only while a sweep has
//   work (a host ejected or a multiplier to decay), so an idle cluster costs no wake-ups.
// The balancer of the cluster in force is rebuilt when the ejected set changes (rare), so the
// per-request path is a map lookup and two counters.

export interface OutlierEnv {
  clock: Clock;
  stats: Stats;
  events: OutlierEventLog;
  log(message: string): void;
}

class HostMonitor {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  ejected = false;
  ejections = 0;
  /** Envoy's ejectTimeBackoff: this ejection's length is base x multiplier. */
  multiplier = 0;
  ejectedAt = 0;
  ejectionMs = 0;
  unejectedAt = -1; // -1: never returned
  reason: EjectionReason = 'consecutive_5xx';

  constructor(readonly host: UpstreamHost) {}
}

/** One host as the admin endpoint shows it. */
export interface HostOutlierState {
  ejected: boolean;
  ejections: number;
  /** Time left of the ejection (0 when not ejected; 0 too when due and waiting for the next sweep). */
  ejectedForMs: number;
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  /** Reason of the current (or last) ejection. */
  reason?: EjectionReason;
}

export class OutlierDetector implements HostOutcomes {
  private readonly monitors = new Map<UpstreamHost, HostMonitor>();
  private active = 0;
  private panicking = false;
  private cluster: RuntimeCluster | null = null;
  private timer: TimerHandle = undefined;
  private readonly startedAt: number;
  private readonly stat: Record<'active' | 'total' | EjectionReason | 'overflow' | 'panic' | 'detected5xx' | 'detectedGateway', string>;

  constructor(
    readonly clusterName: string,
    readonly settings: OutlierSettings,
    private readonly env: OutlierEnv,
  ) {
    this.startedAt = env.clock.now();
    const p = `cluster.${clusterName}.outlier_detection.`;
    this.stat = {
      active: `${p}ejections_active`,
      total: `${p}ejections_enforced_total`,
      consecutive_5xx: `${p}ejections_enforced_consecutive_5xx`,
      consecutive_gateway_failure: `${p}ejections_enforced_consecutive_gateway_failure`,
      detected5xx: `${p}ejections_detected_consecutive_5xx`,
      detectedGateway: `${p}ejections_detected_consecutive_gateway_failure`,
      overflow: `${p}ejections_overflow`,
      panic: `${p}ejections_skipped_panic`, // meshmedic's own: Envoy has no such counter
    };
  }

  /** Whether the cluster is below minHealthPercent: all hosts take traffic, nothing more is ejected. */
  get panic(): boolean {
    return this.panicking;
  }

  /** Runs on `cluster` (the one of the snapshot now in force): watches its hosts, routes it around the ejected ones. */
  attach(cluster: RuntimeCluster): void {
    const pool = new Set(cluster.healthyInSnapshot);
    for (const [host, m] of this.monitors) {
      if (pool.has(host)) continue;
      if (m.ejected) this.changeActive(-1); // Envoy forgets a removed host, ejection included
      this.monitors.delete(host);
    }
    for (const h of pool) if (!this.monitors.has(h)) this.monitors.set(h, new HostMonitor(h));
    // The previous snapshot's cluster keeps reporting here: its requests in flight still count.
    this.cluster = cluster;
    cluster.outlier = this;
    this.updatePanic();
    if (this.active > 0) this.reroute();
  }

  record(host: UpstreamHost, code: number): void {
    const m = this.monitors.get(host);
    if (m === undefined) return; // a host no longer in the cluster (request of an older snapshot)
    if (code < 500 || code > 599) {
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
      return;
    }
    // Gateway first, as Envoy posts it first: a 503 reaching both thresholds ejects as a gateway failure.
    if (code >= 502 && code <= 504) {
      if (++m.consecutiveGateway === this.settings.consecutiveGateway) this.onConsecutive(m, 'consecutive_gateway_failure');
    } else m.consecutiveGateway = 0;
    if (++m.consecutive5xx === this.settings.consecutive5xx) this.onConsecutive(m, 'consecutive_5xx');
  }

  /** Each host's state, by endpoint key. */
  states(): Map<string, HostOutlierState> {
    const now = this.env.clock.now();
    const out = new Map<string, HostOutlierState>();
    for (const m of this.monitors.values()) {
      out.set(m.host.key, {
        ejected: m.ejected,
        ejections: m.ejections,
        ejectedForMs: m.ejected ? Math.max(0, m.ejectedAt + m.ejectionMs - now) : 0,
        consecutive5xx: m.consecutive5xx,
        consecutiveGatewayErrors: m.consecutiveGateway,
        ...(m.ejections > 0 && { reason: m.reason }),
      });
    }
    return out;
  }

  get ejectionsActive(): number {
    return this.active;
  }

  /** The cluster went away or its policy changed: no timer, no state, the gauge back down. */
  stop(): void {
    if (this.timer !== undefined) this.env.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.changeActive(-this.active);
    this.monitors.clear();
    if (this.cluster?.outlier === this) this.cluster.outlier = null;
    this.cluster = null;
  }

  private onConsecutive(m: HostMonitor, reason: EjectionReason): void {
    if (m.ejected) return; // Envoy: nothing to do, and the counter is not reset
    this.env.stats.inc(reason === 'consecutive_5xx' ? this.stat.detected5xx : this.stat.detectedGateway);
    this.tryEject(m, reason);
    if (reason === 'consecutive_5xx') m.consecutive5xx = 0;
    else m.consecutiveGateway = 0;
  }

  private tryEject(m: HostMonitor, reason: EjectionReason): void {
    const { stats } = this.env;
    if (this.panicking) {
      stats.inc(this.stat.panic);
      return;
    }
    const allowed = this.active === 0 || (100 * (this.active + 1)) / this.monitors.size <= this.settings.maxEjectionPercent;
    if (!allowed) {
      stats.inc(this.stat.overflow);
      return;
    }
    const { baseEjectionMs: base, maxEjectionMs: max } = this.settings;
    const now = this.env.clock.now();
    m.ejected = true;
    m.ejections++;
    m.ejectedAt = now;
    m.reason = reason;
    if (m.multiplier * base < max + base) m.multiplier++;
    m.ejectionMs = Math.min(base * m.multiplier, max);
    this.changeActive(1);
    stats.inc(this.stat.total);
    stats.inc(this.stat[reason]);
    this.event(m, 'eject', m.ejectionMs, now);
    this.updatePanic();
    this.reroute();
    this.armSweep(now);
  }

  private sweep(): void {
    this.timer = undefined;
    const now = this.env.clock.now();
    let returned = false;
    for (const m of this.monitors.values()) {
      if (m.ejected && now - m.ejectedAt >= m.ejectionMs) {
        m.ejected = false;
        m.consecutive5xx = 0; // a counter near its threshold must not re-eject on very few errors
        m.consecutiveGateway = 0;
        m.unejectedAt = now;
        this.changeActive(-1);
        this.event(m, 'uneject', now - m.ejectedAt, now);
        returned = true;
      }
    }
    // Envoy decays the multiplier of hosts back for at least an interval, once per sweep.
    for (const m of this.monitors.values()) {
      if (!m.ejected && m.multiplier > 0 && m.unejectedAt >= 0 && now - m.unejectedAt >= this.settings.intervalMs) m.multiplier--;
    }
    if (returned) {
      this.updatePanic();
      this.reroute();
    }
    this.armSweep(now);
  }

  /** Arms the next sweep on the grid when there is work for it. */
  private armSweep(now: number): void {
    if (this.timer !== undefined) return;
    let work = false;
    for (const m of this.monitors.values()) {
      if (m.ejected || m.multiplier > 0) {
        work = true;
        break;
      }
    }
    if (!work) return;
    const interval = this.settings.intervalMs;
    const delay = interval - ((now - this.startedAt) % interval);
    this.timer = this.env.clock.setTimeout(() => this.sweep(), delay);
  }

  private updatePanic(): void {
    const total = this.monitors.size;
    const min = this.settings.minHealthPercent;
    const panic = min > 0 && total > 0 && (100 * (total - this.active)) / total < min;
    if (panic !== this.panicking) {
      this.panicking = panic;
      this.env.log(`outlier detection: cluster ${this.clusterName} ${panic ? `below minHealthPercent ${min}%: panic, all hosts take traffic` : 'out of panic'}`);
    }
  }

  /** The cluster in force balances over the non-ejected hosts, or over all of them in panic. */
  private reroute(): void {
    this.cluster?.routeAround(this.active > 0 && !this.panicking ? (h) => this.monitors.get(h)?.ejected === true : null);
  }

  private changeActive(by: number): void {
    if (by === 0) return;
    this.active += by;
    this.env.stats.inc(this.stat.active, by);
  }

  private event(m: HostMonitor, kind: 'eject' | 'uneject', durationMs: number, now: number): void {
    const instance = m.host.endpoint.instance;
    this.env.events.push({ time: now, cluster: this.clusterName, host: m.host.key, instance, kind, reason: m.reason, ejections: m.ejections, durationMs });
    this.env.log(`outlier detection: ${kind === 'eject' ? 'ejected' : 'returned'} ${m.host.key} (${instance}) of ${this.clusterName}: ${m.reason}, ${kind === 'eject' ? 'for' : 'after'} ${durationMs} ms`);
  }
}
