import { Histogram } from './histogram.js';

// The series of one sidecar's Istio standard metrics, keyed by their rendered label text. HTTP
// series carry the request counter and the three histograms of one label set; TCP series the four
// connection counters. Series live as long as the sidecar (Envoy keeps its stats until they are
// rotated); a hard cap bounds them against unbounded label values (Host headers of unrouted
// requests): beyond it, observations go to a sink that is not exported, and are counted.

export class HttpSeries {
  requests = 0;
  readonly duration = new Histogram();
  readonly requestBytes = new Histogram();
  readonly responseBytes = new Histogram();
  constructor(readonly labels: string) {}
}

export class TcpSeries {
  opened = 0;
  closed = 0;
  sentBytes = 0;
  receivedBytes = 0;
  constructor(readonly labels: string) {}
}

/** A TCP connection still open: its bytes are folded into its series at every scrape (Istio reports them periodically). */
export interface OpenConnection {
  flush(): void;
}

export const DEFAULT_MAX_SERIES = 20_000;

export class IstioMetricRegistry {
  private readonly httpByLabels = new Map<string, HttpSeries>();
  private readonly tcpByLabels = new Map<string, TcpSeries>();
  readonly openConnections = new Set<OpenConnection>();
  /** Observations that found the registry full (exported as a sidecar counter, not as Istio series). */
  overflowed = 0;
  private readonly httpSink = new HttpSeries('');
  private readonly tcpSink = new TcpSeries('');

  constructor(readonly maxSeries = DEFAULT_MAX_SERIES) {}

  get size(): number {
    return this.httpByLabels.size + this.tcpByLabels.size;
  }

  http(labels: string): HttpSeries {
    let s = this.httpByLabels.get(labels);
    if (s !== undefined) return s;
    if (this.size >= this.maxSeries) {
      this.overflowed++;
      return this.httpSink;
    }
    this.httpByLabels.set(labels, (s = new HttpSeries(labels)));
    return s;
  }

  tcp(labels: string): TcpSeries {
    let s = this.tcpByLabels.get(labels);
    if (s !== undefined) return s;
    if (this.size >= this.maxSeries) {
      this.overflowed++;
      return this.tcpSink;
    }
    this.tcpByLabels.set(labels, (s = new TcpSeries(labels)));
    return s;
  }

  /** Series sorted by label text (a scrape's order is stable, as Envoy's). Open connections' bytes are folded in first. */
  snapshot(): { http: HttpSeries[]; tcp: TcpSeries[] } {
    for (const c of this.openConnections) c.flush();
    const byLabels = <T extends { labels: string }>(a: T, b: T) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0);
    return { http: [...this.httpByLabels.values()].sort(byLabels), tcp: [...this.tcpByLabels.values()].sort(byLabels) };
  }
}
