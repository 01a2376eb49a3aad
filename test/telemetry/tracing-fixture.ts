import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Listener, ProxyNode, ProxySnapshot, Route, TelemetrySettings } from '../../src/api/snapshot.js';
import { Sidecar } from '../../src/proxy/sidecar.js';
import type { Span, SpanSink } from '../../src/telemetry/tracing/span.js';
import type { WorkloadSpec } from '../../src/platform/local/workload/spec.js';
import { startWorkload, type RunningWorkload } from '../../src/platform/local/workload/workload.js';
import { startUpstream, type Upstream } from '../proxy/helpers.js';

// Three hops of a mesh on loopback, with real sidecars and real applications:
//   test client -> [productpage sidecar: outbound] -> [details sidecar: inbound] -> details app
//   details app (a synthetic workload: it forwards the trace headers it got) -> [details
//   sidecar: outbound] -> [ratings sidecar: inbound] -> ratings app (an echo server that
//   records the headers it received).
// Every sidecar runs the default filter chain (tracing registered there) and reports its spans
// to one collector.

export const NET = '127.10.130';
export const PP = `${NET}.1`;
export const DETAILS = `${NET}.2`;
export const RATINGS = `${NET}.3`;
export const DETAILS_CLUSTER = 'outbound|9080||details.bookinfo.svc.cluster.local';
export const RATINGS_CLUSTER = 'outbound|9080||ratings.bookinfo.svc.cluster.local';

/** Collects spans; `until` resolves once a predicate on the spans holds (no sleeping). */
export class SpanCollector implements SpanSink {
  readonly spans: Span[] = [];
  private waiters: Array<() => void> = [];

  add(span: Span): void {
    this.spans.push(span);
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred: (spans: Span[]) => boolean): Promise<Span[]> {
    while (!pred(this.spans)) await new Promise<void>((r) => this.waiters.push(r));
    return this.spans;
  }

  /** Waits for `n` spans with this request id and returns them. */
  async forRequest(requestId: string, n: number): Promise<Span[]> {
    await this.until((all) => all.filter((s) => s.requestId === requestId).length >= n);
    return this.spans.filter((s) => s.requestId === requestId);
  }
}

function node(instance: string, app: string, address: string): ProxyNode {
  return { id: `${instance}.bookinfo`, instance, workload: instance.replace(/-\d+$/, ''), namespace: 'bookinfo', serviceAccount: `bookinfo-${app}`, labels: { app, version: 'v1' }, address };
}

function cluster(name: string, extra: Partial<Cluster> = {}): Cluster {
  return { name, direction: name.startsWith('inbound') ? 'inbound' : 'outbound', port: 9080, protocol: 'http1', lbPolicy: 'ROUND_ROBIN', ...extra };
}

function route(name: string, clusterName: string, extra: Partial<Route> = {}): Route {
  return { name, match: [], action: { kind: 'route', destinations: [{ cluster: clusterName, weight: 100 }] }, ...extra };
}

const outboundListener = (address: string): Listener => ({ name: 'outbound_http_15001', direction: 'outbound', address, port: 15001, protocol: 'http', routeConfigName: 'outbound_http' });
const inboundListener = (address: string): Listener => ({ name: 'inbound_9080', direction: 'inbound', address, port: 9080, protocol: 'http' });
const domains = (svc: string) => [svc, `${svc}:9080`, `${svc}.bookinfo`, `${svc}.bookinfo:9080`, `${svc}.bookinfo.svc.cluster.local`, `${svc}.bookinfo.svc.cluster.local:9080`];

export interface Mesh {
  collector: SpanCollector;
  productpage: Sidecar;
  details: Sidecar;
  ratings: Sidecar;
  ratingsApp: Upstream;
  /** Applies the Telemetry settings to every sidecar (a new snapshot version each time). */
  setTelemetry(t: TelemetrySettings | undefined): Promise<void>;
  close(): Promise<void>;
}

export async function startMesh(): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-trace-'));
  const detailsSock = join(dir, 'details.sock');
  const ratingsSock = join(dir, 'ratings.sock');
  const collector = new SpanCollector();
  const productpage = new Sidecar({ spanSink: collector });
  const details = new Sidecar({ spanSink: collector });
  const ratings = new Sidecar({ spanSink: collector });
  const ratingsApp = await startUpstream('ratings-app', { socketPath: ratingsSock });
  const spec: WorkloadSpec = {
    service: 'details', namespace: 'bookinfo', version: 'v1', workload: 'details-v1', instance: 'details-v1-0', serviceAccount: 'bookinfo-details',
    ports: [{ name: 'http', port: 9080, protocol: 'http', socketPath: detailsSock }], errorRate: 0, responseSize: 10, seed: 1,
    script: [{ kind: 'call', call: { service: 'ratings', namespace: 'bookinfo', authority: 'ratings:9080', port: 9080, protocol: 'http', path: '/ratings/0', method: 'GET', size: 0, probability: 1, attempts: 1, onError: 'propagate' } }],
  };
  const detailsApp: RunningWorkload = await startWorkload(spec, { outboundProxy: `http://${DETAILS}:15001` });

  let version = 0;
  const snapshots = (telemetry: TelemetrySettings | undefined): Array<[Sidecar, ProxySnapshot]> => {
    const v = String(++version);
    const t = telemetry ? { telemetry } : {};
    return [
      [productpage, {
        version: v, node: node('productpage-v1-0', 'productpage', PP), ...t,
        listeners: [outboundListener(PP)],
        routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'details.bookinfo.svc.cluster.local:9080', domains: domains('details'), routes: [
          route('abort', DETAILS_CLUSTER, { match: [{ uri: { prefix: '/abort' } }], action: { kind: 'route', destinations: [{ cluster: DETAILS_CLUSTER, weight: 100 }], fault: { abort: { httpStatus: 503, percentage: { value: 100 } } } } }),
          route('default', DETAILS_CLUSTER),
        ] }] }],
        clusters: [cluster(DETAILS_CLUSTER)],
        endpoints: [{ clusterName: DETAILS_CLUSTER, endpoints: [{ address: DETAILS, port: 9080, instance: 'details-v1-0', labels: { app: 'details' }, healthy: true }] }],
      }],
      [details, {
        version: v, node: node('details-v1-0', 'details', DETAILS), ...t,
        listeners: [inboundListener(DETAILS), outboundListener(DETAILS)],
        routes: [{ name: 'outbound_http', virtualHosts: [{ name: 'ratings.bookinfo.svc.cluster.local:9080', domains: domains('ratings'), routes: [route('default', RATINGS_CLUSTER)] }] }],
        clusters: [cluster('inbound|9080||'), cluster(RATINGS_CLUSTER)],
        endpoints: [
          { clusterName: 'inbound|9080||', endpoints: [{ address: '', port: 0, socketPath: detailsSock, instance: 'details-v1-0', labels: {}, healthy: true }] },
          { clusterName: RATINGS_CLUSTER, endpoints: [{ address: RATINGS, port: 9080, instance: 'ratings-v1-0', labels: { app: 'ratings' }, healthy: true }] },
        ],
      }],
      [ratings, {
        version: v, node: node('ratings-v1-0', 'ratings', RATINGS), ...t,
        listeners: [inboundListener(RATINGS)],
        routes: [],
        // The inbound cluster names the service behind the port (cluster metadata), for span names without a caller's operation.
        clusters: [cluster('inbound|9080||', { service: 'ratings.bookinfo.svc.cluster.local' })],
        endpoints: [{ clusterName: 'inbound|9080||', endpoints: [{ address: '', port: 0, socketPath: ratingsSock, instance: 'ratings-v1-0', labels: {}, healthy: true }] }],
      }],
    ];
  };
  const apply = async (telemetry: TelemetrySettings | undefined) => {
    for (const [sidecar, snap] of snapshots(telemetry)) {
      const r = sidecar.applySnapshot(snap);
      if (!r.ok) throw new Error(r.error);
      await sidecar.settled();
      if (sidecar.bindErrors.size) throw new Error([...sidecar.bindErrors.values()].join('; '));
    }
  };
  await apply(undefined);
  return {
    collector,
    productpage,
    details,
    ratings,
    ratingsApp,
    setTelemetry: apply,
    async close() {
      await Promise.all([productpage.stop(0), details.stop(0), ratings.stop(0)]);
      await detailsApp.close();
      await ratingsApp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
