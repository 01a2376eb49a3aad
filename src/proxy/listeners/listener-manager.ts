import type { Listener } from '../../api/snapshot.js';
import type { HttpFilterFactory } from '../filters/http-filter.js';
import { FilterChain } from '../filters/filter-chain.js';
import type { ProxyContext } from '../proxy-context.js';
import type { ActiveListener } from './active-listener.js';
import { HttpListener, sniffs } from './http-listener.js';
import { TcpListener } from './tcp-listener.js';

// Opens and closes listener sockets to match a snapshot. A listener on the same address, port
// and protocol keeps its socket and its connections; only its definition and filter chain are
// replaced. Binds happen in the background; `settled()` waits for them.

/** How long connections of a removed listener may finish their requests. */
const DRAIN_MS = 5_000;

export class ListenerManager {
  private readonly active = new Map<string, ActiveListener>();
  private pending: Promise<void> = Promise.resolve();
  /** Listeners that could not bind, by name, with the error (shown in /stats and logs). */
  readonly bindErrors = new Map<string, string>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly filters: readonly HttpFilterFactory[],
  ) {}

  reconcile(listeners: Listener[]): void {
    const wanted = new Map(listeners.map((l) => [keyOf(l), l]));
    const closing: Promise<void>[] = [];
    for (const [key, al] of this.active) {
      const next = wanted.get(key);
      // Same protocol, HTTP/2 acceptance and first-bytes sniffing (h2c, mTLS): keep the socket and its connections.
      if (next && next.protocol === al.def.protocol && !!next.acceptsHttp2 === !!al.def.acceptsHttp2 && sniffs(next) === sniffs(al.def)) continue;
      this.active.delete(key);
      closing.push(al.close(DRAIN_MS));
    }
    const opening: Array<Promise<void>> = [];
    // server.close() frees the port at once (connections drain on their own): bind on the next turn.
    const closed = closing.length ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    for (const p of closing) p.catch(() => undefined);
    for (const [key, def] of wanted) {
      const al = this.active.get(key);
      if (al) {
        const before = al.def;
        al.def = def;
        if (al instanceof HttpListener) {
          al.chain = FilterChain.build(def, this.ctx, this.filters);
          if (before.mtls?.mode !== def.mtls?.mode) al.drainRefusedConnections(); // PeerAuthentication changed: as Envoy drains the old filter chain
        }
        continue;
      }
      const created = def.protocol === 'http' ? new HttpListener(def, FilterChain.build(def, this.ctx, this.filters), this.ctx) : new TcpListener(def, this.ctx);
      this.active.set(key, created);
      // A listener replacing one on the same port (protocol change) binds once the old one is closed.
      opening.push(
        closed
          .then(() => created.listen())
          .then(
            () => void this.bindErrors.delete(def.name),
            (err: Error) => {
              this.bindErrors.set(def.name, err.message);
              if (this.active.get(key) === created) this.active.delete(key);
              this.ctx.stats.inc('listener_manager.bind_failed');
              this.ctx.log(`listener ${def.name} on ${key}: ${err.message}`);
            },
          ),
      );
    }
    const prev = this.pending;
    this.pending = Promise.all([prev, ...opening]).then(() => undefined);
  }

  settled(): Promise<void> {
    return this.pending;
  }

  listenerNames(): string[] {
    return [...this.active.values()].map((l) => l.def.name);
  }

  async closeAll(graceMs: number): Promise<void> {
    await this.pending;
    const all = [...this.active.values()];
    this.active.clear();
    await Promise.all(all.map((l) => l.close(graceMs)));
  }
}

const keyOf = (l: Listener) => `${l.address}:${l.port}`;
