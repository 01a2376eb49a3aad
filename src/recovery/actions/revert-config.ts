import type { Resource } from '../../api/resource.js';
import type { Change } from '../../config/store.js';
import type { ConfigChange } from '../model.js';
import type { ActionDefinition } from './action.js';
import { placed, yamlOf } from './istio.js';

// A recent config change that broke something: put back what it replaced, from the config
// store's history. A change is a store version: every resource that version changed is put
// back together (a rollout changes a DestinationRule and a VirtualService at once; reverting
// one without the other would route to subsets that no longer exist). Each resource goes back to
// its state before that version: deleted when the change created it, re-created when it deleted
// it. The rollback of the revert is each resource as it is now, so undoing it is exact even if
// it changed again since.

export const revertConfig: ActionDefinition = {
  kind: 'revert-config',
  treats: [{ kind: 'config-change' }, { kind: 'security-policy' }],
  plan(cause, causeRank, ctx) {
    const ref = cause.target.resource;
    if (!ref) return { skip: 'the config-change cause names no resource' };
    const label = `${ref.kind} ${ref.namespace}/${ref.name}`;
    const all = ctx.changes();
    const own = all.filter((c) => c.resource.info.kind === ref.kind && (c.resource.metadata.namespace ?? '') === ref.namespace && c.resource.metadata.name === ref.name);
    const change = ref.configVersion !== undefined ? own.find((c) => c.version === ref.configVersion) : own[own.length - 1];
    if (!change) return { skip: `${label}: its change${ref.configVersion !== undefined ? ` at version ${ref.configVersion}` : ''} is not in the config store's history any more` };
    const together = all.filter((c) => c.version === change.version);
    const changes: ConfigChange[] = [];
    const words: string[] = [];
    for (const c of together) {
      const k = c.resource.info.kind;
      const ns = c.resource.metadata.namespace ?? '';
      const name = c.resource.metadata.name;
      const now = ctx.resources(k, ns).find((r) => r.metadata.name === name);
      const was = before(c);
      const current = now ? placed(now) : null;
      if (was) changes.push({ op: 'apply', kind: k, namespace: ns, name, raw: placed(was), previous: current });
      else if (current) changes.push({ op: 'delete', kind: k, namespace: ns, name, previous: current });
      else continue;
      words.push(`${k} ${ns}/${name}: ${c.type === 'added' ? 'delete it' : c.type === 'deleted' ? 're-create it' : 'restore the previous spec'}`);
    }
    if (changes.length === 0) return { skip: `${label}: what version ${change.version} changed is already gone` };
    const later = all.filter((h) => h.version > change.version && together.some((c) => c.key === h.key)).length;
    return {
      kind: 'revert-config',
      cause: cause.target,
      causeRank,
      summary: `revert config version ${change.version} (${words.join('; ')})${later ? `; ${later} later change(s) to these resources are undone too` : ''}`,
      expectedEffect: `the requests version ${change.version} broke succeed again within the verification window`,
      blastRadius: { text: `${changes.map((c) => `${c.kind} ${c.namespace}/${c.name}`).join(', ')}: every workload that reads them gets the config it had before version ${change.version}` },
      config: changes,
      platform: [],
      yaml: yamlOf(changes),
    };
  },
};

function before(c: Change): Resource | undefined {
  return c.type === 'added' ? undefined : c.type === 'deleted' ? c.resource : c.previous;
}
