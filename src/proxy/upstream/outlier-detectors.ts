import type { Clock } from '../clock.js';
import type { Stats } from '../stats.js';
import type { RuntimeCluster } from './cluster.js';
import { OutlierDetector } from './outlier-detector.js';
import { OutlierEventLog } from './outlier-events.js';
import { outlierSettings } from './outlier-settings.js';

// The sidecar's outlier detectors, one per outbound cluster with an outlierDetection policy
// (Istio sets it on outbound clusters only), kept across snapshots by cluster name: an
// unrelated config change must not bring an ejected host back. A detector is reused while
// its cluster's outlierDetection JSON stays the same (Envoy keeps a cluster whose config did
// not change); a changed policy starts a fresh one, a cluster that went away stops its own.

export class OutlierDetectors {
  readonly events = new OutlierEventLog();
  private readonly byCluster = new Map<string, { policy: string; detector: OutlierDetector }>();

  constructor(private readonly env: { clock: Clock; stats: Stats; log(message: string): void }) {}

  /** Attaches the detectors to the clusters of a snapshot about to be swapped in (before any request sees it). */
  reconcile(clusters: Iterable<RuntimeCluster>): void {
    const seen = new Set<string>();
    for (const c of clusters) {
      const raw = c.def.outlierDetection;
      if (c.def.direction !== 'outbound' || raw === undefined || raw === null) continue;
      const policy = JSON.stringify(raw);
      let entry = this.byCluster.get(c.def.name);
      if (entry !== undefined && entry.policy !== policy) {
        entry.detector.stop();
        entry = undefined;
      }
      if (entry === undefined) {
        const settings = outlierSettings(raw);
        if (settings === null) continue;
        if (settings.unsupported.length > 0) this.env.log(`outlier detection: cluster ${c.def.name}: not supported, ignored: ${settings.unsupported.join(', ')}`);
        entry = { policy, detector: new OutlierDetector(c.def.name, settings, { ...this.env, events: this.events }) };
        this.byCluster.set(c.def.name, entry);
      }
      entry.detector.attach(c);
      seen.add(c.def.name);
    }
    for (const [name, entry] of this.byCluster) {
      if (seen.has(name)) continue;
      entry.detector.stop();
      this.byCluster.delete(name);
    }
  }

  get(cluster: string): OutlierDetector | undefined {
    return this.byCluster.get(cluster)?.detector;
  }

  stopAll(): void {
    for (const entry of this.byCluster.values()) entry.detector.stop();
    this.byCluster.clear();
  }
}
