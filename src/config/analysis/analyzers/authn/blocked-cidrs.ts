import type { Resource } from '../../../../api/resource.js';
import { namespaceOf } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// istiod fetches the JWKS of every RequestAuthentication's jwksUri itself. Unless
// BLOCKED_CIDRS_IN_JWKS_URIS is set on istiod, a jwksUri can point it at internal addresses
// (cloud metadata, cluster services): a server-side request forgery path.

const BLOCKED_CIDRS_ENV = 'BLOCKED_CIDRS_IN_JWKS_URIS';
const MAX_NAMES_SHOWN = 5;

function isIstiod(deployment: Resource): boolean {
  return deployment.metadata.labels?.['app'] === 'istiod';
}

/** Set with a literal value on any container (a value from a ConfigMap or Secret cannot be seen here). */
function setsBlockedCidrs(deployment: Resource): boolean {
  const containers: any[] = deployment.spec?.template?.spec?.containers ?? [];
  return containers.some((c) => (c?.env ?? []).some((e: any) => e?.name === BLOCKED_CIDRS_ENV && e?.value));
}

/** `ns/name, ...`, capped so a large mesh does not produce a huge message. */
function describeNames(names: readonly string[]): string {
  if (names.length <= MAX_NAMES_SHOWN) return names.join(', ');
  return `${names.slice(0, MAX_NAMES_SHOWN).join(', ')}, and ${names.length - MAX_NAMES_SHOWN} more`;
}

export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description: 'Checks that istiod sets BLOCKED_CIDRS_IN_JWKS_URIS when RequestAuthentications exist',
  inputs: ['RequestAuthentication', 'Deployment'],
  codes: ['IST0175'],
  analyze(ctx) {
    // The environment istiod is known to run with (given from outside the files) already blocks CIDRs.
    if (ctx.env[BLOCKED_CIDRS_ENV]) return;
    const names = ctx.list('RequestAuthentication').map((r) => `${namespaceOf(r)}/${r.metadata.name}`);
    if (names.length === 0) return;
    for (const deployment of ctx.list('Deployment')) {
      if (!isIstiod(deployment) || setsBlockedCidrs(deployment)) continue;
      // {0}: the RequestAuthentications concerned; {1}: how many there are.
      ctx.report(newMessage('IST0175', deployment, [describeNames(names), names.length]));
    }
  },
};
