import type { Resource } from '../api/resource.js';
import type { JwtRule } from '../api/snapshot.js';

// Which RequestAuthentications apply to a workload (the same selection as AuthorizationPolicy:
// root namespace without selector mesh-wide, namespace without selector namespace-wide, a
// selector for matching workloads) and their JWT rules, as the sidecar's JWT filter needs them.

function selectorOf(r: Resource): Record<string, string> | undefined {
  const m = r.spec?.selector?.matchLabels;
  return m && typeof m === 'object' && Object.keys(m).length > 0 ? (m as Record<string, string>) : undefined;
}

export function selectJwtRules(resources: readonly Resource[], w: { namespace: string; labels: Record<string, string> }, rootNamespace: string): JwtRule[] {
  const out: JwtRule[] = [];
  for (const r of resources) {
    const ns = r.metadata.namespace ?? '';
    if (ns !== w.namespace && ns !== rootNamespace) continue;
    const sel = selectorOf(r);
    if (sel && !Object.entries(sel).every(([k, v]) => w.labels[k] === v)) continue;
    if (!sel && ns !== w.namespace && ns !== rootNamespace) continue;
    for (const j of Array.isArray(r.spec?.jwtRules) ? r.spec.jwtRules : []) {
      if (!j || typeof j.issuer !== 'string') continue;
      out.push({
        issuer: j.issuer,
        ...(Array.isArray(j.audiences) && { audiences: j.audiences.map(String) }),
        ...(typeof j.jwks === 'string' && { jwks: j.jwks }),
        ...(typeof j.jwksUri === 'string' && { jwksUri: j.jwksUri }),
        ...(Array.isArray(j.fromHeaders) && { fromHeaders: j.fromHeaders.map((h: { name: string; prefix?: string }) => ({ name: String(h.name).toLowerCase(), ...(h.prefix !== undefined && { prefix: String(h.prefix) }) })) }),
        ...(Array.isArray(j.fromParams) && { fromParams: j.fromParams.map(String) }),
        ...(j.forwardOriginalToken === true && { forwardOriginalToken: true }),
        origin: `RequestAuthentication ${ns}/${r.metadata.name}`,
      });
    }
  }
  return out;
}
