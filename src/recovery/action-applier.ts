import type { ConfigChange, RecoveryAction } from './model.js';
import type { Platform } from './platform/platform.js';

// Carrying an action out and undoing it, whatever holds the config: the config changes first,
// then the platform operations in order; a failure half-way undoes what was done and throws.
// Undo is exact and in reverse: a quarantine is lifted, the instances a scale-up started are
// stopped, each ConfigChange puts back its `previous` (deleting what was new). A restart cannot
// be undone (the process is a new one); its quarantine is lifted. Where the config goes is the
// subclass's: the local control plane's store (applier.ts) or a cluster's API server
// (platform/kube-applier.ts).

export abstract class ActionApplier {
  constructor(protected readonly platform: Platform) {}

  /** Writes the action's config changes. */
  protected abstract applyConfig(changes: readonly ConfigChange[], a: RecoveryAction): Promise<void>;
  /** Puts back what `applyConfig` changed, in reverse. */
  protected abstract revertConfig(changes: readonly ConfigChange[], a: RecoveryAction): Promise<void>;

  /** Applies; on a failure half-way, undoes what it had done and throws. */
  async apply(a: RecoveryAction): Promise<void> {
    const done: RecoveryAction = { ...a, config: [], platform: [] };
    try {
      if (a.config.length) {
        await this.applyConfig(a.config, a);
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

  /** Undoes an applied (or partly applied) action. */
  async undo(a: RecoveryAction): Promise<void> {
    for (const op of [...a.platform].reverse()) {
      if (op.op === 'quarantine') await this.platform.quarantine(op.namespace, op.instance, false);
      else if (op.op === 'scale' && a.started?.length) await this.platform.removeInstances(op.namespace, a.started);
    }
    if (a.config.length) await this.revertConfig(a.config, a);
  }
}
