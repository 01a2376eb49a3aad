import type { ActionDefinition } from './action.js';
import { applyChange, yamlOf } from './istio.js';

// An external dependency that fails: send its traffic to its failover, when one is declared:
// the host's ServiceEntry carries the annotation `meshmedic.io/failover: <other host>`, and
// that other host has a ServiceEntry of its own. The action is a VirtualService for the failing
// host routing to the failover host. Without a declared failover there is nothing to fail over
// to: the action is not proposed, and the plan says so.

export const FAILOVER_ANNOTATION = 'meshmedic.io/failover';

export const failoverExternal: ActionDefinition = {
  kind: 'failover-external',
  treats: [{ kind: 'external' }],
  plan(cause, causeRank, ctx) {
    const host = cause.target.host;
    if (!host) return { skip: 'the external cause names no host' };
    const entries = ctx.resources('ServiceEntry');
    const entry = entries.find((r) => Array.isArray(r.raw.spec?.hosts) && (r.raw.spec.hosts as string[]).includes(host));
    if (!entry) return { skip: `external host ${host} has no ServiceEntry, so no failover can be declared for it` };
    const failover = entry.metadata.annotations?.[FAILOVER_ANNOTATION];
    if (!failover) return { skip: `no failover for ${host}: annotate its ServiceEntry ${entry.metadata.namespace}/${entry.metadata.name} with ${FAILOVER_ANNOTATION}: <backup host>` };
    const backup = entries.find((r) => Array.isArray(r.raw.spec?.hosts) && (r.raw.spec.hosts as string[]).includes(failover));
    if (!backup) return { skip: `the failover ${failover} of ${host} has no ServiceEntry` };
    const ns = entry.metadata.namespace ?? 'default';
    const name = `${host.replace(/[^a-z0-9-]/g, '-')}-failover`.slice(0, 63);
    const existing = ctx.resources('VirtualService', ns).find((r) => r.metadata.name === name);
    const backupPort = (backup.raw.spec.ports as Array<{ number: number }> | undefined)?.[0]?.number;
    const raw = {
      apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: ns, labels: { 'meshmedic.io/recovery': 'true' } },
      spec: { hosts: [host], http: [{ route: [{ destination: { host: failover, ...(backupPort !== undefined && { port: { number: backupPort } }) } }] }] },
    };
    const change = applyChange(raw, existing);
    return {
      kind: 'failover-external',
      cause: cause.target,
      causeRank,
      summary: `fail over external host ${host} to ${failover}`,
      expectedEffect: `calls to ${host} are answered by ${failover}; the callers' errors fall below the SLO within the verification window`,
      blastRadius: { text: `every call to ${host} from the mesh goes to ${failover}` },
      config: [change],
      platform: [],
      yaml: yamlOf([change]),
    };
  },
};
