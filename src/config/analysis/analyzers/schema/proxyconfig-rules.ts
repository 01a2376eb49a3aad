import type { Resource } from '../../../../api/resource.js';
import { checkWorkloadSelector } from './check-selectors.js';
import type { Findings } from './findings.js';
import { isSet, obj, wrapped } from './yaml-values.js';

// ProxyConfig rules (Istio's ValidateProxyConfig): a valid selector and a non-negative
// concurrency (0 means "one worker per CPU").

export function validateProxyConfig(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  checkWorkloadSelector(f, ['spec', 'selector'], spec.selector);
  if (isSet(spec.concurrency) && wrapped(spec.concurrency) < 0) f.error(['spec', 'concurrency'], 'concurrency must not be negative');
}
