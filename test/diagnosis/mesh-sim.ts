import { ISTIO_BUCKETS } from '../../src/telemetry/sidecar/histogram.js';
import type { MetricsStore } from '../../src/telemetry/store/metrics-store.js';

// Istio's metrics as the sidecars of a small mesh would export them, scraped into a MetricsStore
// once a second on a test's clock: flows of requests (caller pod -> service -> answering pod)
// with a rate, a response code, a flag and a latency, which a test changes at any time (a fault
// starting at t0). Counters keep growing across changes, as a sidecar's do; a new outcome (the
// first 500) is a new series, as it is in a real exposition.

export interface SimPod {
  app: string;
  version: string;
  namespace: string;
  pod: string;
}

export const simPod = (app: string, version = 'v1', namespace = 'bookinfo', index = 0): SimPod => ({ app, version, namespace, pod: `${app}-${version}-${index}` });

export interface Flow {
  from: SimPod | null;
  service: string; // short name, in `to`'s namespace (or `namespace`)
  namespace?: string;
  /** null: no endpoint was chosen (UH, NR): only the source sidecar reports it. */
  to: SimPod | null;
  rps: number;
  /** The name the caller wrote (`reviews:9080`), reported as destination_service when no route was chosen. */
  authority?: string;
  code?: string;
  flags?: string;
  ms: number;
}

function peer(prefix: string, p: SimPod | null): Record<string, string> {
  const v = (x: string) => (p ? x : 'unknown');
  return {
    [`${prefix}_workload`]: v(p ? `${p.app}-${p.version}` : ''),
    [`${prefix}_workload_namespace`]: v(p?.namespace ?? ''),
    [`${prefix}_app`]: v(p?.app ?? ''),
    [`${prefix}_version`]: v(p?.version ?? ''),
    [`${prefix}_canonical_service`]: v(p?.app ?? ''),
    [`${prefix}_canonical_revision`]: p ? p.version : 'latest',
    [`${prefix}_principal`]: 'unknown',
    [`${prefix}_cluster`]: 'Kubernetes',
  };
}

export class MeshSim {
  private flows = new Map<string, Flow>();
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();
  private lastTick: number;
  private accumulatedTo: number;

  constructor(private readonly store: MetricsStore, start: number) {
    this.lastTick = start;
    this.accumulatedTo = start;
  }

  /** Sets (or replaces, by name) a flow from now on. */
  set(name: string, f: Flow): void {
    this.flows.set(name, f);
  }

  remove(name: string): void {
    this.flows.delete(name);
  }

  /** Requests flow continuously up to `t`; a scrape is taken at every whole second on the way. A flow set at t takes effect from t. */
  advanceTo(t: number): void {
    for (let tick = this.lastTick + 1000; tick <= t; tick += 1000) {
      this.accumulateTo(tick);
      for (const s of this.values.values()) this.store.add(s.labels, tick, s.value);
      // The scraper's own series: every sidecar that reported answered its scrape.
      const pods = new Map<string, Record<string, string>>();
      for (const s of this.values.values()) pods.set(`${s.labels.namespace}/${s.labels.pod}`, { __name__: 'up', job: s.labels.job, instance: s.labels.instance, namespace: s.labels.namespace, pod: s.labels.pod });
      for (const labels of pods.values()) this.store.add(labels, tick, 1);
      this.lastTick = tick;
    }
    this.accumulateTo(t);
  }

  private accumulateTo(t: number): void {
    if (t <= this.accumulatedTo) return;
    for (const f of this.flows.values()) this.accumulate(f, (t - this.accumulatedTo) / 1000);
    this.accumulatedTo = t;
  }

  private accumulate(f: Flow, seconds: number): void {
    const n = f.rps * seconds;
    const ns = f.to?.namespace ?? f.namespace ?? 'bookinfo';
    const reporters = [...(f.from ? ['source'] : []), ...(f.to ? ['destination'] : [])] as Array<'source' | 'destination'>;
    for (const reporter of reporters) {
      const at = reporter === 'source' ? f.from! : f.to!;
      const labels: Record<string, string> = {
        job: 'kubernetes-pods', instance: `${at.pod}:15090`, namespace: at.namespace, pod: at.pod, app: at.app, version: at.version,
        reporter, ...peer('source', f.from), ...peer('destination', f.to),
        destination_service: f.authority ?? `${f.service}.${ns}.svc.cluster.local`, destination_service_name: f.authority ?? f.service, destination_service_namespace: f.to?.namespace ?? 'unknown',
        request_protocol: 'http', response_code: f.code ?? '200', grpc_response_status: '', response_flags: f.flags ?? '-',
        connection_security_policy: reporter === 'source' ? 'unknown' : 'none',
      };
      this.inc({ __name__: 'istio_requests_total', ...labels }, n);
      this.inc({ __name__: 'istio_request_duration_milliseconds_count', ...labels }, n);
      this.inc({ __name__: 'istio_request_duration_milliseconds_sum', ...labels }, n * f.ms);
      for (const le of [...ISTIO_BUCKETS, Infinity]) this.inc({ __name__: 'istio_request_duration_milliseconds_bucket', ...labels, le: le === Infinity ? '+Inf' : String(le) }, le >= f.ms ? n : 0);
    }
  }

  private inc(labels: Record<string, string>, by: number): void {
    const key = JSON.stringify(labels);
    const s = this.values.get(key);
    if (s) s.value += by;
    else this.values.set(key, { labels, value: by });
  }
}
