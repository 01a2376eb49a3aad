import type { StoredResource } from '../control-plane-client.js';
import { destinationRulesOf, fqdnOf, freeName } from '../config-edits.js';
import { ChaosError } from '../errors.js';
import type { TargetRef } from '../types.js';
import type { ApplyContext, ApplyResult } from './context.js';
import { applyChange, placed } from './config-faults.js';

// bad-mtls: a PeerAuthentication on a service's workloads that its callers' transport does not
// match, the classic mutual TLS mistake. A mismatch needs both sides, so the fault makes two
// changes, each through the control plane's apply API (two config store versions):
//   1. the callers' side, harmless on its own under the default PERMISSIVE: the service's
//      DestinationRule (the existing one changed, or a new one) gets `trafficPolicy.tls.mode`
//      DISABLE (mode strict: callers send plaintext) or ISTIO_MUTUAL (mode disable: callers
//      insist on mutual TLS, as a DestinationRule written before auto mTLS does);
//   2. the mistake: a new PeerAuthentication `<svc>-chaos-mtls` selecting the service's
//      workloads with `mtls.mode` STRICT (plaintext refused: callers get 503 UC) or DISABLE
//      (plaintext only: the callers' handshakes fail, 503 UF).
// The ground truth is the PeerAuthentication at the version of change 2. Clearing undoes the
// PeerAuthentication first (deleted), then the DestinationRule (put back or deleted).

type Raw = Record<string, any>;

export type MtlsFaultMode = 'strict' | 'disable';

const SIDES: Record<MtlsFaultMode, { peer: 'STRICT' | 'DISABLE'; callers: 'DISABLE' | 'ISTIO_MUTUAL' }> = {
  strict: { peer: 'STRICT', callers: 'DISABLE' },
  disable: { peer: 'DISABLE', callers: 'ISTIO_MUTUAL' },
};

/** The service's DestinationRule (or a new one) with the callers' transport set for every subset. */
export function callerTlsDestinationRule(dr: Raw | undefined, svc: TargetRef, name: string, mode: MtlsFaultMode): Raw {
  const raw: Raw = dr ? structuredClone(dr) : { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: svc.namespace }, spec: { host: fqdnOf(svc) } };
  const tls = { mode: SIDES[mode].callers };
  raw.spec.trafficPolicy = { ...(raw.spec.trafficPolicy ?? {}), tls };
  // A subset's own tls would win over the top level: set it there too.
  for (const s of Array.isArray(raw.spec.subsets) ? (raw.spec.subsets as Raw[]) : []) if (s?.trafficPolicy?.tls) s.trafficPolicy.tls = tls;
  return raw;
}

/** The wrong PeerAuthentication, selecting the service's workloads by their `app` label. */
export function wrongPeerAuthentication(svc: TargetRef, name: string, app: string, mode: MtlsFaultMode): Raw {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: svc.namespace },
    spec: { selector: { matchLabels: { app } }, mtls: { mode: SIDES[mode].peer } },
  };
}

/** A name no PeerAuthentication of the namespace uses yet. */
export function freePeerAuthenticationName(all: readonly StoredResource[], svc: TargetRef): string {
  const taken = new Set(all.filter((r) => r.namespace === svc.namespace).map((r) => r.name));
  const base = `${svc.name}-chaos-mtls`;
  for (let i = 1; ; i++) if (!taken.has(i === 1 ? base : `${base}-${i}`)) return i === 1 ? base : `${base}-${i}`;
}

export async function badMtls(ctx: ApplyContext): Promise<ApplyResult> {
  if (ctx.target.kind !== 'service') throw new ChaosError('E_CHAOS_TARGET', 'bad-mtls takes a service');
  const svc = ctx.target;
  const mode = (ctx.params.mode ?? 'strict') as MtlsFaultMode;
  const own = ctx.deps.processes.list().find((r) => r.instance.namespace === svc.namespace && r.spec.service === svc.name);
  if (!own) throw new ChaosError('E_CHAOS_TARGET', `service ${svc.name} has no running instance`);
  // A mismatch the mesh would not enforce is no fault: the sidecars do mutual TLS on HTTP/1.1 ports only so far.
  if (!own.spec.ports.some((p) => p.protocol === 'http')) throw new ChaosError('E_CHAOS_TARGET', `bad-mtls: service ${svc.name} has no HTTP/1.1 port, and mutual TLS is enforced on HTTP/1.1 ports only so far (grpc, http2 and tcp ports stay plaintext: docs/security.md)`);
  const app = own.instance.labels?.app ?? svc.name;
  const cp = ctx.deps.controlPlane();
  const [drs, pas] = await Promise.all([cp.resources('DestinationRule'), cp.resources('PeerAuthentication')]);
  const existing = destinationRulesOf(drs, svc)[0];
  const dr = callerTlsDestinationRule(existing && placed(existing), svc, existing?.name ?? freeName(drs, svc), mode);
  const pa = wrongPeerAuthentication(svc, freePeerAuthenticationName(pas, svc), app, mode);
  ctx.effects.service = `${svc.name}.${svc.namespace}`;
  ctx.effects.mtls = { mode, peer: SIDES[mode].peer, callers: SIDES[mode].callers };
  const callersVersion = await applyChange(ctx, [{ before: existing, after: dr }]);
  const version = await applyChange(ctx, [{ after: pa }]);
  ctx.effects.config = { callers: { version: callersVersion, resource: `DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}` }, mistake: { version, resource: `PeerAuthentication ${svc.namespace}/${pa.metadata.name}` } };
  return { config: { kind: 'config', resource: { kind: 'PeerAuthentication', namespace: svc.namespace, name: pa.metadata.name }, version } };
}
