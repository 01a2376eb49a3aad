import type { ControlPlane } from '../../src/controlplane/control-plane.js';
import { MeshSim, simPod, type SimPod } from '../diagnosis/mesh-sim.js';
import type { ManualClock } from '../support/manual-clock.js';
import { NS } from './fixture.js';

// The data plane of the recovery tests, driven by the real control plane's state: productpage
// calls reviews at a steady rate; requests go to the versions in the proportions of the
// reviews VirtualService in the config store (all serving instances alike without one), and
// within a version to its serving instances (ready in the registry, not quarantined). Versions
// in `bad` answer 500; `ms` sets a version's response time. Istio's metrics of it are scraped once a second into the control plane's
// embedded store, on the test's clock, so the executor's verification reads real series.

const PP = simPod('productpage', 'v1', NS);
const RPS = 40;

export class World {
  readonly sim: MeshSim;
  bad = new Set<string>();
  /** Mean response time (ms) per version; 10 ms when not set. */
  ms = new Map<string, number>();
  private names = new Set<string>();

  constructor(private readonly cp: ControlPlane, private readonly clock: ManualClock) {
    this.sim = new MeshSim(cp.metrics.store, clock.now());
  }

  /** The share of reviews' traffic each serving instance gets now. */
  shares(): Map<string, number> {
    const serving = this.cp.registry.instances().filter((i) => i.labels.app === 'reviews' && i.healthy && !this.cp.quarantine.has(i.namespace, i.name));
    const out = new Map<string, number>();
    const vs = this.cp.store.get('VirtualService', NS, 'reviews');
    const route = (vs?.raw.spec?.http?.[0]?.route ?? []) as Array<{ destination: { subset?: string }; weight?: number }>;
    if (!vs || route.length === 0) {
      for (const i of serving) out.set(i.name, 1 / serving.length);
      return out;
    }
    const total = route.length === 1 ? 100 : route.reduce((a, d) => a + (d.weight ?? 0), 0);
    for (const d of route) {
      const version = d.destination.subset; // the fixture's subsets are named after their version
      const own = serving.filter((i) => i.labels.version === version);
      const w = (route.length === 1 ? 100 : d.weight ?? 0) / total;
      for (const i of own) out.set(i.name, (out.get(i.name) ?? 0) + w / own.length);
      if (own.length === 0 && w > 0) out.set(`none:${version}`, w);
    }
    return out;
  }

  private flows(): void {
    const seen = new Set<string>();
    this.sim.set('in', { from: null, service: 'productpage', to: PP, rps: RPS, ms: 20 });
    seen.add('in');
    for (const [name, share] of this.shares()) {
      const key = `r:${name}`;
      seen.add(key);
      if (name.startsWith('none:')) {
        this.sim.set(key, { from: PP, service: 'reviews', namespace: NS, to: null, rps: RPS * share, code: '503', flags: 'UH', ms: 0 });
        continue;
      }
      const [version] = /v\d+/.exec(name) ?? ['v1'];
      const pod: SimPod = { app: 'reviews', version, namespace: NS, pod: name };
      this.sim.set(key, { from: PP, service: 'reviews', to: pod, rps: RPS * share, ms: this.ms.get(version) ?? 10, ...(this.bad.has(version) && { code: '500' }) });
    }
    for (const n of this.names) if (!seen.has(n)) this.sim.remove(n);
    this.names = seen;
  }

  /** One second: traffic as the control plane routes it now, scraped, then the clock moves (firing due timers). */
  async step(ms = 1000): Promise<void> {
    this.flows();
    this.sim.advanceTo(this.clock.now() + ms);
    this.clock.advance(ms);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  async run(seconds: number): Promise<void> {
    for (let i = 0; i < seconds; i++) await this.step();
  }
}
