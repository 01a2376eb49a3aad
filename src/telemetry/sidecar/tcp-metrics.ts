import type { Socket } from 'node:net';
import type { Listener } from '../../api/snapshot.js';
import type { CompiledSnapshot } from '../../proxy/compiled-snapshot.js';
import type { ProxyContext } from '../../proxy/proxy-context.js';
import type { RuntimeCluster } from '../../proxy/upstream/cluster.js';
import type { UpstreamHost } from '../../proxy/upstream/host.js';
import { destinationEdgeText, inboundServiceOf, sourceEdgeText } from './edges.js';
import { tcpLabelText, type Reporter } from './label-sets.js';
import type { IstioMetricRegistry, OpenConnection, TcpSeries } from './metric-registry.js';
import { anyTcpMetric, metricSwitches, type MetricSwitches } from './settings.js';
import { telemetryOf } from './sidecar-telemetry.js';
import type { WorkloadIdentity } from './workload-identity.js';

// Istio's stats filter for TCP listeners: a connection is reported opened once its upstream
// connects (or, failing, at its close with the flag that ended it: UF, UH, UO, NC), closed when it
// ends, and its bytes (sent to and received from the downstream peer) are counted at every scrape
// while it is open and at its close, as Istio reports them periodically. Plain TCP carries no
// peer metadata, so an inbound listener's reports name no source (Istio needs mTLS for that too).

/** What a TCP listener records for one connection. */
export class TcpConnectionMetrics implements OpenConnection {
  private series: TcpSeries | null = null;
  private flag = '-';
  private read = 0;
  private written = 0;
  private done = false;

  constructor(
    private readonly listener: TcpListenerMetrics,
    private readonly edge: string,
    private readonly client: Socket,
  ) {}

  /** The upstream connected: the connection counts as opened. */
  connected(): void {
    if (this.series !== null || this.done) return;
    this.open();
    this.listener.registry.openConnections.add(this);
  }

  /** What ended the connection before it connected (UF), reported with it at close. */
  failed(flag: string): void {
    if (this.series === null) this.flag = flag;
  }

  closed(): void {
    if (this.done) return;
    this.done = true;
    if (this.series === null) this.open();
    this.flush();
    if (this.listener.on.tcpClosed) this.series!.closed++;
    this.listener.registry.openConnections.delete(this);
  }

  flush(): void {
    const s = this.series;
    if (s === null) return;
    const read = this.client.bytesRead;
    const written = this.client.bytesWritten;
    if (this.listener.on.tcpReceived) s.receivedBytes += read - this.read;
    if (this.listener.on.tcpSent) s.sentBytes += written - this.written;
    this.read = read;
    this.written = written;
  }

  private open(): void {
    this.series = this.listener.registry.tcp(tcpLabelText(this.edge, this.listener.reporter, this.flag));
    if (this.listener.on.tcpOpened) this.series.opened++;
  }
}

/** One TCP listener's metric settings and edges, for the snapshot in force. */
export class TcpListenerMetrics {
  readonly reporter: Reporter;
  private readonly edges = new WeakMap<RuntimeCluster, Map<UpstreamHost | null, string>>();
  private readonly inboundEdge: string | undefined;

  constructor(
    listener: Listener,
    snapshot: CompiledSnapshot,
    readonly registry: IstioMetricRegistry,
    private readonly self: WorkloadIdentity,
    readonly on: MetricSwitches,
  ) {
    this.reporter = listener.direction === 'outbound' ? 'source' : 'destination';
    if (listener.direction === 'inbound') this.inboundEdge = destinationEdgeText(self, null, inboundServiceOf(snapshot.snapshot, listener));
  }

  /** A connection to `host` of `cluster` (either null when none could be chosen). */
  connection(cluster: RuntimeCluster | null, host: UpstreamHost | null, client: Socket): TcpConnectionMetrics {
    return new TcpConnectionMetrics(this, this.edgeOf(cluster, host), client);
  }

  /** A connection refused before any upstream was tried (NC, UH, UO): opened and closed with its flag. */
  refused(cluster: RuntimeCluster | null, client: Socket, flag: string): void {
    const c = this.connection(cluster, null, client);
    c.failed(flag);
    c.closed();
  }

  private edgeOf(cluster: RuntimeCluster | null, host: UpstreamHost | null): string {
    if (this.inboundEdge !== undefined) return this.inboundEdge;
    if (cluster === null) return sourceEdgeText(this.self, null, null, '');
    let byHost = this.edges.get(cluster);
    if (byHost === undefined) this.edges.set(cluster, (byHost = new Map()));
    let text = byHost.get(host);
    if (text === undefined) byHost.set(host, (text = sourceEdgeText(this.self, cluster, host, '')));
    return text;
  }
}

const bySnapshot = new WeakMap<CompiledSnapshot, Map<string, TcpListenerMetrics | null>>();

/** The metrics of a TCP listener under the snapshot in force; null when its TCP metrics are all disabled. */
export function tcpMetricsOf(ctx: ProxyContext, listener: Listener): TcpListenerMetrics | null {
  const compiled = ctx.current;
  if (!compiled) return null;
  let byListener = bySnapshot.get(compiled);
  if (byListener === undefined) bySnapshot.set(compiled, (byListener = new Map()));
  let m = byListener.get(listener.name);
  if (m === undefined) {
    const on = metricSwitches(compiled.snapshot.telemetry, listener.direction);
    const t = telemetryOf(ctx);
    m = anyTcpMetric(on) ? new TcpListenerMetrics(listener, compiled, t.metrics, t.self(compiled.snapshot.node), on) : null;
    byListener.set(listener.name, m);
  }
  return m;
}
