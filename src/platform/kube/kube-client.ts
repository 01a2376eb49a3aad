import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { codeOfStatus, KubeError } from './errors.js';

// The Kubernetes API as JSON in and out. @kubernetes/client-node resolves the cluster and the
// credentials (applyToHTTPSOptions: CA, client certificate, bearer token, exec plugins);
// requests and watches go through node's http(s) so objects come back exactly as the API server
// wrote them (the library's typed models drop unknown fields and turn timestamps into Dates,
// which would make a cluster object differ from the same object read from a file).

export type Json = Record<string, any>;

export interface KubeList {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: Json[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** The field manager of everything meshmedic writes (server-side apply and patches). */
export const FIELD_MANAGER = 'meshmedic';

export class KubeClient {
  private readonly server: URL;

  constructor(
    readonly config: KubeConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.server = new URL(config.getCurrentCluster()!.server);
  }

  get serverUrl(): string {
    return this.server.toString().replace(/\/$/, '');
  }

  get<T = Json>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Every page of a list (limit/continue), as one List whose resourceVersion is the last page's. */
  async list(path: string, query: Record<string, string> = {}): Promise<KubeList> {
    const items: Json[] = [];
    let cont: string | undefined;
    let first: KubeList | undefined;
    for (;;) {
      const q = new URLSearchParams({ ...query, limit: '500', ...(cont && { continue: cont }) });
      const page = await this.request<KubeList>('GET', `${path}?${q}`);
      first ??= page;
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      if (!cont) return { apiVersion: first.apiVersion, kind: first.kind, metadata: { resourceVersion: page.metadata?.resourceVersion }, items };
    }
  }

  /** Server-side apply (kubectl apply --server-side --field-manager=meshmedic --force-conflicts). */
  apply(path: string, object: Json, opts: { dryRun?: boolean } = {}): Promise<Json> {
    const q = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true', ...(opts.dryRun && { dryRun: 'All' }) });
    return this.request('PATCH', `${path}?${q}`, JSON.stringify(object), 'application/apply-patch+yaml');
  }

  /** JSON merge patch (RFC 7386), as `kubectl patch --type merge`. */
  mergePatch(path: string, patch: Json): Promise<Json> {
    return this.request('PATCH', `${path}?${new URLSearchParams({ fieldManager: FIELD_MANAGER })}`, JSON.stringify(patch), 'application/merge-patch+json');
  }

  delete(path: string): Promise<Json> {
    return this.request('DELETE', path);
  }

  /**
   * Watch from a resourceVersion (the list's): newline-delimited JSON events, in order. `done` is
   * called once, when the server ends the stream (it does every few minutes), the connection
   * fails, or the server refuses the watch. Resolves once the server has answered, with a
   * function that stops the watch.
   * (Our own request rather than client-node's Watch: that one leaves the socket of a refused
   * watch unread, and a watch refused a few times in a row then hangs.)
   */
  async watch(path: string, resourceVersion: string | undefined, onEvent: (type: WatchEventType, object: Json) => void, done: (err: unknown) => void): Promise<() => void> {
    const q = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', ...(resourceVersion && { resourceVersion }) });
    const url = new URL(`${this.server.pathname.replace(/\/$/, '')}${path}?${q}`, this.server);
    const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.config.applyToHTTPSOptions(opts);
    let finished = false;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      done(err);
    };
    let established: () => void = () => undefined;
    const answered = new Promise<void>((r) => (established = r));
    const req = (url.protocol === 'https:' ? https : http).request(url, opts, (res) => {
      established();
      if (res.statusCode !== 200) {
        res.resume(); // read the refusal so the socket is freed
        res.on('end', () => finish(new KubeError(codeOfStatus(res.statusCode ?? 0), `watch ${path}: HTTP ${res.statusCode}`, res.statusCode)));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          let event: { type: WatchEventType; object: Json };
          try {
            event = JSON.parse(line);
          } catch {
            continue;
          }
          onEvent(event.type, event.object);
        }
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('close', () => finish(null));
    });
    req.on('error', (e) => {
      established();
      finish(finished ? null : new KubeError('E_KUBE_UNREACHABLE', `watch ${path}: ${e.message}`));
    });
    req.end();
    // Resolved once the server answered (the watch runs, or `done` has its refusal).
    await answered;
    return () => {
      finished = true;
      req.destroy();
    };
  }

  async request<T = Json>(method: string, path: string, body?: string, contentType = 'application/json'): Promise<T> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': contentType }) } };
    try {
      await this.config.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new KubeError('E_KUBE_CONFIG', `credentials for ${this.serverUrl}: ${(e as Error).message}`);
    }
    const transport = url.protocol === 'https:' ? https : http;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = transport.request(url, { ...opts, timeout: this.timeoutMs }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new KubeError('E_KUBE_UNREACHABLE', `cannot reach the Kubernetes API at ${this.serverUrl}: ${e.message}`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new KubeError('E_KUBE_API', `${method} ${path}: HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`, status);
    }
    if (status >= 200 && status < 300) return parsed as T;
    // A Status object: {kind: Status, status: Failure, message, reason, code}.
    const why = parsed?.message ?? parsed?.reason ?? `HTTP ${status}`;
    throw new KubeError(codeOfStatus(status), `${method} ${path}: ${why}`, status);
  }
}
