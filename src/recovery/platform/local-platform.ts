import { callDaemon, DaemonCallError } from '../../platform/local/daemon-client.js';
import { RecoveryError } from '../errors.js';
import type { QuarantineSet } from '../quarantine.js';
import type { Platform } from './platform.js';

// The local mesh as a Platform: restart and scale go to the mesh daemon over its unix socket
// (daemon-api.ts: POST /v1/processes/app%2F<id>/restart, POST /v1/instances, DELETE
// /v1/instances/:ns/:name); quarantine is the control plane's own (QuarantineSet), since it is
// the control plane that decides which endpoints a sidecar gets.

export class LocalPlatform implements Platform {
  readonly name = 'local';

  constructor(
    private readonly stateRoot: string | undefined,
    private readonly quarantined: QuarantineSet,
  ) {}

  async quarantine(namespace: string, instance: string, on: boolean): Promise<void> {
    this.quarantined.set(namespace, instance, on);
  }

  async restart(namespace: string, instance: string): Promise<void> {
    await this.call('POST', `/v1/processes/${encodeURIComponent(`app/${instance}.${namespace}`)}/restart`);
  }

  async scale(namespace: string, workload: string, add: number): Promise<{ started: string[] }> {
    const r = await this.call<{ started: string[] }>('POST', '/v1/instances', { namespace, workload, count: add });
    // The daemon answers with instance ids (`name.namespace`); the registry knows names.
    return { started: r.started.map((id) => id.slice(0, id.length - namespace.length - 1)) };
  }

  async removeInstances(namespace: string, names: readonly string[]): Promise<void> {
    for (const n of names) await this.call('DELETE', `/v1/instances/${encodeURIComponent(namespace)}/${encodeURIComponent(n)}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.stateRoot) throw new RecoveryError('E_RECOVERY_PLATFORM', 'no mesh daemon: this control plane was not started by `meshmedic up`, so it cannot restart or start instances');
    try {
      return await callDaemon<T>(this.stateRoot, method, path, body, 60_000);
    } catch (e) {
      if (e instanceof DaemonCallError) throw new RecoveryError('E_RECOVERY_PLATFORM', `mesh daemon: ${e.message} [${e.code}]`);
      throw e;
    }
  }
}
