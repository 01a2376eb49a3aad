import { jsonLine, textLine, type AccessLogEntry } from './access-log-format.js';

// Where a sidecar's access log goes, off the request's path: a completed stream only queues its
// entry; the lines are formatted and written together once the event loop turns (one write per
// turn, whatever the request rate). The sink is the sidecar process's stdout by default, which the
// local mesh's supervisor appends to `<state>/logs/<instance>.<namespace>.sidecar.log` (Istio's
// default provider writes to /dev/stdout, read with `kubectl logs -c istio-proxy`). The queue is
// bounded: when the sink cannot keep up, entries beyond the bound are dropped and counted.

export type AccessLogSink = (chunk: string) => void;

const MAX_QUEUED = 10_000;

const stdoutSink: AccessLogSink = (chunk) => {
  process.stdout.write(chunk);
};

interface Queued {
  entry: AccessLogEntry;
  format: 'text' | 'json';
}

export class AccessLogWriter {
  private queue: Queued[] = [];
  private scheduled = false;
  /** Entries dropped because the queue was full. */
  dropped = 0;
  written = 0;

  constructor(private sink: AccessLogSink = stdoutSink) {}

  /** Sends lines elsewhere (tests, another file). */
  setSink(sink: AccessLogSink): void {
    this.sink = sink;
  }

  add(entry: AccessLogEntry, format: 'text' | 'json'): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push({ entry, format });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes what is queued now (also called at shutdown). */
  readonly flush = (): void => {
    this.scheduled = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    let out = '';
    for (const { entry, format } of q) out += format === 'json' ? jsonLine(entry) : textLine(entry);
    this.written += q.length;
    this.sink(out);
  };
}
