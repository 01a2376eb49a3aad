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

  /** Applies the objects as one change; the store version it made. */
  async apply(objects: Array<Record<string, unknown>>, file: string): Promise<number> {
    const documents = objects.map((o) => ({ file, text: stringify(o) }));
    return (await this.call<{ version: number }>('POST', '/api/v1/apply?namespace=default', { documents }, file)).version;
  }

  async delete(refs: Array<{ apiVersion: string; kind: string; namespace: string; name: string }>, file: string): Promise<number> {
    const documents = refs.map((r) => ({ file, text: stringify({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } }) }));
    return (await this.call<{ version: number }>('POST', '/api/v1/delete?namespace=default', { documents }, file)).version;
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

  async proxyStatus(): Promise<Array<{ node: string; status: string }>> {
    return (await this.call<{ proxies: Array<{ node: string; status: string }> }>('GET', '/api/v1/proxy-status')).proxies;
  }
}
