import type { Resource } from '../../../../api/resource.js';
import { checkPolicySelection } from './check-selectors.js';
import type { Findings } from './findings.js';
import { list, num, obj, str } from './yaml-values.js';

// WasmPlugin rules (Istio's ValidateWasmPlugin): selector or targetRefs, a module URL with a
// supported scheme, a well-formed sha256, length limits, unique inline env vars, and match
// ports in range. Istio reports only the first problem of each of these groups.

const URL_SCHEMES = new Set(['', 'file', 'http', 'https', 'oci']);

export function validateWasmPlugin(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  checkPolicySelection(f, spec);

  const url = str(spec.url);
  if (url === '') f.error(['spec', 'url'], 'url must be set');
  else {
    const scheme = urlScheme(url);
    if (scheme === undefined) f.error(['spec', 'url'], `url "${url}" cannot be parsed`);
    else if (!URL_SCHEMES.has(scheme)) f.error(['spec', 'url'], `url scheme "${scheme}" is not supported (use oci, http, https or file)`);
  }
  const sha = str(spec.sha256);
  if (sha !== '') {
    if (sha.length !== 64) f.error(['spec', 'sha256'], 'sha256 must be 64 characters long');
    else if (!/^[a-f0-9]{64}$/.test(sha)) f.error(['spec', 'sha256'], 'sha256 must be 64 lowercase hex digits');
  }
  if (str(spec.imagePullSecret).length > 253) f.error(['spec', 'imagePullSecret'], 'imagePullSecret must be at most 253 characters long');
  if (str(spec.pluginName).length > 256) f.error(['spec', 'pluginName'], 'pluginName must be at most 256 characters long');
  checkVmConfig(f, obj(spec.vmConfig));
  checkMatch(f, spec.match);
}

/** The scheme Go's URL parser finds; a bare `host/path` is read as http. */
function urlScheme(url: string): string | undefined {
  for (const candidate of [url, `http://${url}`]) {
    try {
      return new URL(candidate).protocol.replace(/:$/, '');
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function checkVmConfig(f: Findings, vm: Record<string, any> | undefined): void {
  const names = new Set<string>();
  const env = list(vm?.env);
  for (let i = 0; i < env.length; i++) {
    const e = obj(env[i]);
    if (!e) continue;
    const p = ['spec', 'vmConfig', 'env', i];
    const name = str(e.name);
    if (name === '') return f.error(p, 'env entry needs a name');
    if (name.length > 256) return f.error([...p, 'name'], 'env name must be at most 256 characters long');
    if (names.has(name)) return f.error([...p, 'name'], `env ${name} is listed more than once`);
    names.add(name);
    if ((str(e.valueFrom) || 'INLINE') !== 'INLINE' && str(e.value) !== '') return f.error([...p, 'value'], 'value can be set only when valueFrom is INLINE');
  }
}

function checkMatch(f: Findings, match: unknown): void {
  const selectors = list(match);
  for (let i = 0; i < selectors.length; i++) {
    const sel = obj(selectors[i]);
    if (!sel) return f.error(['spec', 'match', i], 'match entry must not be null');
    const ports = list(sel.ports);
    for (let j = 0; j < ports.length; j++) {
      const port = obj(ports[j]);
      if (!port) return f.error(['spec', 'match', i, 'ports', j], 'port must not be null');
      const n = num(port.number);
      if (n <= 0 || n > 65535) return f.error(['spec', 'match', i, 'ports', j, 'number'], `port ${n} is not in the range 1..65535`);
    }
  }
}
