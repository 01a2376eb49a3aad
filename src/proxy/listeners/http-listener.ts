import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Listener } from '../../api/snapshot.js';
import { continueFilterChain, runCompleteFilters, type FilterChain } from '../filters/filter-chain.js';
import { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';
import type { ActiveListener } from './active-listener.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { closeServer, listen } from './server-lifecycle.js';

// An HTTP/1.1 listener (keep-alive): each request becomes an HttpStream on the snapshot in
// force when it arrived, and runs the listener's filter chain.

const STREAM = Symbol('meshmedic.stream');
type TaggedResponse = ServerResponse & { [STREAM]?: HttpStream };

export class HttpListener implements ActiveListener, ListenerRuntime {
  readonly server: Server;

  constructor(
    public def: Listener,
    public chain: FilterChain,
    readonly ctx: ProxyContext,
  ) {
    // No request timeout (Istio has none by default); idle keep-alive connections stay a minute.
    this.server = createServer({ requestTimeout: 0, keepAliveTimeout: 60_000, headersTimeout: 60_000 }, this.onRequest);
  }

  listen(): Promise<void> {
    return listen(this.server, this.def.address, this.def.port);
  }

  close(graceMs: number): Promise<void> {
    return closeServer(this.server, graceMs);
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const s = new HttpStream(req, res, this, this.ctx.current!, this.ctx.clock.now());
    (res as TaggedResponse)[STREAM] = s;
    res.once('close', onResponseClose);
    continueFilterChain(s);
  };
}

/** The response is over (sent, or the client went away): stop upstream work, then report the stream. */
function onResponseClose(this: TaggedResponse): void {
  const s = this[STREAM];
  if (!s || s.completed) return;
  this[STREAM] = undefined;
  if (!this.writableFinished) s.upstream?.downstreamClosed();
  s.completed = true;
  if (s.status === 0 && this.headersSent) s.status = this.statusCode;
  runCompleteFilters(s);
  s.listener.ctx.stats.requestDone(s.responseFlag);
}
