import type { Applier } from '../applier.js';
import type { ConfigChange, RecoveryAction } from '../model.js';
import type { Platform } from './platform.js';

// The executor's applier for Istio on Kubernetes. The local mesh's Applier writes config into
// the control plane's store; on a cluster the config is the API server's, so an action's
// ConfigChanges go to the platform as server-side applies (KubePlatform.applyConfig: field
// manager meshmedic, labelled with the action id) and come back exactly (revertConfig: each
// `previous` applied back, what was new deleted). Platform operations and their undo are the
// same as the Applier's: quarantine lifted, the pods a scale-up started removed; a restart has
// nothing to undo.

export interface ConfigPlatform extends Platform {
  applyConfig(changes: readonly ConfigChange[], actionId: string): Promise<void>;
  revertConfig(changes: readonly ConfigChange[]): Promise<void>;
}

export class KubeApplier implements Pick<Applier, 'apply' | 'undo'> {
  constructor(private readonly platform: ConfigPlatform) {}

  /** Applies; on a failure half-way, undoes what it had done and throws. */
  async apply(a: RecoveryAction): Promise<void> {
    const done: RecoveryAction = { ...a, config: [], platform: [] };
    try {
      if (a.config.length) {
        await this.platform.applyConfig(a.config, a.id);
        done.config = a.config;
      }
      for (const op of a.platform) {
        if (op.op === 'quarantine') await this.platform.quarantine(op.namespace, op.instance, true);
        else if (op.op === 'restart') await this.platform.restart(op.namespace, op.instance);
        else a.started = [...(a.started ?? []), ...(await this.platform.scale(op.namespace, op.workload, op.add)).started];
        done.platform.push(op);
        done.started = a.started;
      }
    } catch (e) {
      await this.undo(done).catch(() => undefined);
      throw e;
    }
  }

  async undo(a: RecoveryAction): Promise<void> {
    for (const op of [...a.platform].reverse()) {
      if (op.op === 'quarantine') await this.platform.quarantine(op.namespace, op.instance, false);
      else if (op.op === 'scale' && a.started?.length) await this.platform.removeInstances(op.namespace, a.started);
    }
    if (a.config.length) await this.platform.revertConfig(a.config);
  }
}
