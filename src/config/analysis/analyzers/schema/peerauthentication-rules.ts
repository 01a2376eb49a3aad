import type { Resource } from '../../../../api/resource.js';
import { checkWorkloadSelector } from './check-selectors.js';
import type { Findings } from './findings.js';
import { entries, isSet, obj } from './yaml-values.js';

// PeerAuthentication rules (Istio's ValidatePeerAuthentication): port-level mTLS needs a
// workload selector (ports mean nothing mesh- or namespace-wide) and real port numbers.

export function validatePeerAuthentication(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  const ports = entries(spec.portLevelMtls);
  const selectorEmpty = entries(obj(spec.selector)?.matchLabels).length === 0;
  if (selectorEmpty && ports.length) f.error(['spec', 'portLevelMtls'], 'a mesh- or namespace-wide PeerAuthentication (no selector labels) cannot have portLevelMtls');
  if (isSet(spec.portLevelMtls) && ports.length === 0) f.error(['spec', 'portLevelMtls'], 'portLevelMtls, when set, needs at least one port');
  for (const [port] of ports) {
    const n = /^\d+$/.test(port) ? Number(port) : NaN;
    if (!(n >= 1 && n <= 65535)) f.error(['spec', 'portLevelMtls', port], `port ${port} is not in the range 1..65535`);
  }
  checkWorkloadSelector(f, ['spec', 'selector'], spec.selector);
}
