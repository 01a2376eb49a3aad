import { stringify } from 'yaml';
import type { WorkloadInstance } from '../../../api/snapshot.js';

// What the mesh daemon asks of its control plane (its HTTP API, src/controlplane/api.ts):
// config through apply/delete (so the config store versions every chaos change, as it does a
// user's), resources in force, and instances the daemon starts beyond the topology.

export interface StoredResource {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  raw: Record<string, unknown>;
}

/** A row of GET /api/v1/proxy-status: what was acknowledged against what the proxy should run now. */
export interface ProxySyncStatus {
  node: string;
  status: string;
  connected: boolean;
  acked?: { version: string };
  current?: string;
}

export class ControlPlaneCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ControlPlaneClient {
  constructor(
    private readonly url: string,
    /** The API token (src/dashboard/access-token.ts). */
    private readonly token?: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, file = 'chaos'): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...(this.token && { authorization: `Bearer ${this.token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, any>) : {};
    if (!res.ok) throw new ControlPlaneCallError(res.status, json.error?.code ?? 'E_HTTP', `control plane ${method} ${path.split('?')[0]} (${file}): ${json.error?.message ?? `HTTP ${res.status}`}`);
    return json as T;
  }

  async resources(kind: string, namespace?: string): Promise<StoredResource[]> {
    const q = new URLSearchParams({ kind, ...(namespace && { namespace }) });
    return (await this.call<{ items: StoredResource[] }>('GET', `/api/v1/resources?${q}`)).items;
  }

  /** Applies the objects as one change and waits until the sidecars run it; the store version it made. */
  async apply(objects: Array<Record<string, unknown>>, file: string): Promise<number> {
    const documents = objects.map((o) => ({ file, text: stringify(o) }));
    const { version } = await this.call<{ version: number }>('POST', '/api/v1/apply?namespace=default', { documents }, file);
    await this.waitForSync();
    return version;
  }

  async delete(refs: Array<{ apiVersion: string; kind: string; namespace: string; name: string }>, file: string): Promise<number> {
    const documents = refs.map((r) => ({ file, text: stringify({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } }) }));
    const { version } = await this.call<{ version: number }>('POST', '/api/v1/delete?namespace=default', { documents }, file);
    await this.waitForSync();
    return version;
  }

  /**
   * Until every connected sidecar has acknowledged the snapshot the control plane would send it
   * now (`current`), or `timeoutMs` passed: a fault made of config is in force (and a cleared one
   * gone) when `chaos inject` / `clear` return, not a push later. A sidecar that is down or
   * rejects its snapshot does not hold the caller beyond the timeout.
   */
  async waitForSync(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const proxies = await this.proxyStatus();
      if (proxies.every((p) => !p.connected || p.current === undefined || p.acked?.version === p.current)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async register(instance: WorkloadInstance): Promise<void> {
    await this.call('POST', '/api/v1/instances', instance);
  }

  async deregister(namespace: string, name: string): Promise<void> {
    await this.call('DELETE', `/api/v1/instances/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`).catch((e: unknown) => {
      if (!(e instanceof ControlPlaneCallError && e.status === 404)) throw e;
    });
  }

  async registry(): Promise<{ instances: WorkloadInstance[]; services: Array<{ hostname: string; namespace: string; kind: string }> }> {
    return this.call('GET', '/api/v1/registry');
  }

  async proxyStatus(): Promise<ProxySyncStatus[]> {
    return (await this.call<{ proxies: ProxySyncStatus[] }>('GET', '/api/v1/proxy-status')).proxies;
  }
}
