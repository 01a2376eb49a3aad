import { stringify } from 'yaml';
import type { ConfigStore } from '../config/store.js';
import { applyText } from '../controlplane/apply.js';
import { kindByName } from '../controlplane/kind-names.js';
import { ActionApplier } from './action-applier.js';
import { RecoveryError } from './errors.js';
import type { ConfigChange, RecoveryAction } from './model.js';
import type { Platform } from './platform/platform.js';

// The local mesh's applier: config goes through the same path as `meshmedic apply` (schema and
// Istio validation, one store version for the action's resources: the store's history and
// diagnosis see it as any change); platform operations go to the Platform (action-applier.ts).

export class Applier extends ActionApplier {
  constructor(
    private readonly store: ConfigStore,
    platform: Platform,
  ) {
    super(platform);
  }

  protected async applyConfig(changes: readonly ConfigChange[], a: RecoveryAction): Promise<void> {
    const file = `recovery ${a.id} (${a.kind})`;
    const puts = changes.filter((c) => c.op === 'apply' && c.raw);
    if (puts.length) await this.put(puts.map((c) => c.raw!), file);
    for (const c of changes) if (c.op === 'delete') this.remove(c);
  }

  protected async revertConfig(changes: readonly ConfigChange[], a: RecoveryAction): Promise<void> {
    const file = `rollback of recovery ${a.id} (${a.kind})`;
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
