import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderOperations } from '../../api/snapshot.js';

// Istio's header manipulation (HTTPRoute.headers and HTTPRouteDestination.headers) as Envoy
// applies it: removes first, then `set` (overwrite or add), then `add` (append). A `set`/`add`
// of `host` or `:authority` is an authority rewrite (istiod turns it into host_rewrite), and
// other pseudo headers cannot be touched.

export interface CompiledHeaderOps {
  remove: string[];
  set: Array<[string, string]>;
  add: Array<[string, string]>;
  /** From `set`/`add` of `host`/`:authority` (set wins). */
  authority: string | undefined;
}

const isAuthority = (k: string) => k === 'host' || k === ':authority';
const isInternal = (k: string) => k.startsWith(':') || k === 'host';

export function compileHeaderOps(ops: HeaderOperations | undefined): CompiledHeaderOps | null {
  if (!ops) return null;
  const out: CompiledHeaderOps = { remove: [], set: [], add: [], authority: undefined };
  let addAuthority: string | undefined;
  for (const k of ops.remove ?? []) if (!isInternal(k.toLowerCase())) out.remove.push(k.toLowerCase());
  for (const [k0, v] of Object.entries(ops.set ?? {})) {
    const k = k0.toLowerCase();
    if (isAuthority(k)) out.authority = v;
    else if (!isInternal(k)) out.set.push([k, v]);
  }
  for (const [k0, v] of Object.entries(ops.add ?? {})) {
    const k = k0.toLowerCase();
    if (isAuthority(k)) addAuthority = v;
    else if (!isInternal(k)) out.add.push([k, v]);
  }
  out.authority ??= addAuthority;
  if (!out.remove.length && !out.set.length && !out.add.length && out.authority === undefined) return null;
  return out;
}

export function applyToRequest(h: IncomingHttpHeaders, ops: CompiledHeaderOps): void {
  for (const k of ops.remove) delete h[k];
  for (const [k, v] of ops.set) h[k] = v;
  for (const [k, v] of ops.add) {
    const cur = h[k];
    if (cur === undefined) h[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else h[k] = [cur, v];
  }
}

/** Response headers are a flat `[name, value, ...]` list (what writeHead takes); names may be any case. */
export function applyToResponse(flat: string[], ops: CompiledHeaderOps): string[] {
  let out = flat;
  if (ops.remove.length || ops.set.length) {
    const drop = new Set(ops.remove);
    for (const [k] of ops.set) drop.add(k);
    out = [];
    for (let i = 0; i < flat.length; i += 2) if (!drop.has(flat[i].toLowerCase())) out.push(flat[i], flat[i + 1]);
  }
  for (const [k, v] of ops.set) out.push(k, v);
  for (const [k, v] of ops.add) out.push(k, v);
  return out;
}
