import { stringify } from 'yaml';
import type { ConfigStore } from '../config/store.js';
import { applyText } from '../controlplane/apply.js';
import { kindByName } from '../controlplane/kind-names.js';
import { RecoveryError } from './errors.js';
import type { ConfigChange, RecoveryAction } from './model.js';
import type { Platform } from './platform/platform.js';

// Carries an action out and undoes it. Config goes through the same path as `meshmedic apply`
// (schema and Istio validation, one store version for the action's resources: the store's
// history and diagnosis see it as any change); platform operations go to the Platform.
// Undo is exact: each ConfigChange puts back its `previous` (deleting what was new), a
// quarantine is lifted, the instances a scale-up started are stopped. A restart cannot be undone
// (nothing to undo: the process is a new one); its quarantine is lifted.

export class Applier {
  constructor(
    private readonly store: ConfigStore,
    private readonly platform: Platform,
  ) {}

  /** Applies; on a failure half-way, undoes what it had done and throws. */
  async apply(a: RecoveryAction): Promise<void> {
    const done: RecoveryAction = { ...a, config: [], platform: [] };
    try {
      if (a.config.length) {
        await this.applyConfig(a.config, `recovery ${a.id} (${a.kind})`);
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
    if (a.config.length) await this.revertConfig(a.config, `rollback of recovery ${a.id} (${a.kind})`);
  }

  private async applyConfig(changes: readonly ConfigChange[], file: string): Promise<void> {
    const puts = changes.filter((c) => c.op === 'apply' && c.raw);
    if (puts.length) await this.put(puts.map((c) => c.raw!), file);
    for (const c of changes) if (c.op === 'delete') this.remove(c);
  }

  private async revertConfig(changes: readonly ConfigChange[], file: string): Promise<void> {
    const back = [...changes].reverse();
    const puts = back.filter((c) => c.previous).map((c) => c.previous!);
    if (puts.length) await this.put(puts, file);
    for (const c of back) if (!c.previous) this.remove(c);
  }

  private async put(objects: Array<Record<string, unknown>>, file: string): Promise<void> {
    const text = objects.map((o) => stringify(o)).join('---\n');
    const outcome = await applyText(this.store, { documents: [{ text, file }], namespace: 'default' });
    if (!outcome.ok) {
      const e = outcome.errors[0];
      throw new RecoveryError('E_RECOVERY_CONFIG', `the config change was refused: ${e.message} [${e.code}]`);
    }
  }

  private remove(c: ConfigChange): void {
    const info = kindByName(c.kind);
    if (!info) throw new RecoveryError('E_RECOVERY_CONFIG', `unknown kind ${c.kind}`);
    this.store.delete(info.id, c.namespace, c.name);
  }
}
