import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { HttpStream } from '../http-stream.js';
import { splitAuthority } from '../http-stream.js';
import type { Stats } from '../stats.js';
import type { H1Handler } from '../upstream/h1-client.js';
import type { UpstreamHost } from '../upstream/host.js';

// Istio's mirror (Envoy's request_mirror_policies): a fire-and-forget copy of the request to
// another cluster, with `-shadow` appended to the host. Its response is discarded and its
// failures never touch the original request.

/** Sends the copy; returns the body the main request must use (a tee when there is a body). */
export function mirrorRequest(s: HttpStream, clusterName: string, path: string, headers: IncomingHttpHeaders, body: IncomingMessage | null, stats: Stats): Readable | null {
  const cluster = s.config.clusters.get(clusterName);
  const host = cluster?.chooseForStream(s);
  if (!host) {
    stats.inc('http.mirror.no_host');
    return body;
  }
  let mainBody: Readable | null = body;
  let shadowBody: Readable | null = null;
  if (body) [mainBody, shadowBody] = tee(body);
  const shadowHeaders: IncomingHttpHeaders = { ...headers, host: shadowAuthority(String(headers.host ?? s.authority)) };
  host.active++;
  stats.inc('http.mirror.sent');
  const handler = new ShadowHandler(host, stats);
  const breakers = cluster!.breakers;
  if (cluster!.def.protocol === 'http2') host.h2(breakers.settings).dispatch(s.method, path, shadowHeaders, shadowBody, handler);
  else host.h1().dispatch(s.method, path, shadowHeaders, shadowBody, handler, breakers);
  return mainBody;
}

/** `reviews:9080` -> `reviews-shadow:9080`. */
export function shadowAuthority(authority: string): string {
  const { host, port } = splitAuthority(authority);
  return `${host}-shadow${port}`;
}

/** Two readers of one body: the main copy keeps backpressure, the shadow copy buffers (it is best effort). */
function tee(body: IncomingMessage): [Readable, Readable] {
  const main = new PassThrough();
  const shadow = new PassThrough();
  body.on('data', (chunk: Buffer) => {
    if (!main.write(chunk)) body.pause();
    shadow.write(chunk);
  });
  main.on('drain', () => body.resume());
  body.on('end', () => {
    main.end();
    shadow.end();
  });
  body.on('error', (err) => {
    main.destroy(err);
    shadow.destroy(err);
  });
  return [main, shadow];
}

class ShadowHandler implements H1Handler {
  private done = false;
  constructor(
    private readonly host: UpstreamHost,
    private readonly stats: Stats,
  ) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.finish();
  }
  onError(): void {
    this.stats.inc('http.mirror.failed');
    this.finish();
  }
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.host.active--;
  }
}
