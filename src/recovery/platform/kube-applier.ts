import { ActionApplier } from '../action-applier.js';
import type { ConfigChange, RecoveryAction } from '../model.js';
import type { Platform } from './platform.js';

// The executor's applier for Istio on Kubernetes. The local mesh's Applier writes config into
// the control plane's store; on a cluster the config is the API server's, so an action's
// ConfigChanges go to the platform as server-side applies (KubePlatform.applyConfig: field
// manager meshmedic, labelled with the action id) and come back exactly (revertConfig: each
// `previous` applied back, what was new deleted). Platform operations and their undo are
// ActionApplier's, as on the local mesh.

export interface ConfigPlatform extends Platform {
  applyConfig(changes: readonly ConfigChange[], actionId: string): Promise<void>;
  revertConfig(changes: readonly ConfigChange[]): Promise<void>;
}

export class KubeApplier extends ActionApplier {
  constructor(private readonly kube: ConfigPlatform) {
    super(kube);
  }

  protected applyConfig(changes: readonly ConfigChange[], a: RecoveryAction): Promise<void> {
    return this.kube.applyConfig(changes, a.id);
  }

  protected revertConfig(changes: readonly ConfigChange[]): Promise<void> {
    return this.kube.revertConfig(changes);
  }
}
