import { Agent, request } from 'undici';
import type { Clock } from '../../proxy/clock.js';

// One scrape's HTTP GET, bounded in time (on the injected clock, so tests decide when a hung
// target times out) and in size. Connections are kept alive between scrapes, as Prometheus does.

export class ScrapeHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScrapeHttpError';
  }
}

export class ExpositionFetcher {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 1, pipelining: 1 });

  constructor(
    private readonly clock: Clock,
    private readonly maxBodyBytes = 32 * 1024 * 1024,
  ) {}

  async fetch(url: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
    const ac = new AbortController();
    const onOuterAbort = () => ac.abort(new ScrapeHttpError('scrape aborted'));
    signal.addEventListener('abort', onOuterAbort, { once: true });
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      ac.abort(new ScrapeHttpError(`context deadline exceeded (timeout ${timeoutMs} ms)`));
    }, timeoutMs);
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        signal: ac.signal,
        headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', 'x-prometheus-scrape-timeout-seconds': String(timeoutMs / 1000) },
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new ScrapeHttpError(`server returned HTTP status ${res.statusCode}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBodyBytes) {
          ac.abort();
          throw new ScrapeHttpError(`body size limit exceeded (${this.maxBodyBytes} bytes)`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      if (timedOut) throw new ScrapeHttpError(`context deadline exceeded (timeout ${timeoutMs} ms)`);
      if (e instanceof ScrapeHttpError) throw e;
      throw new ScrapeHttpError((e as Error).message || String(e));
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener('abort', onOuterAbort);
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
