import type { FieldPath, Resource } from '../../../../api/resource.js';
import { checkStrictHeaderName } from './check-headers.js';
import { checkPort } from './check-ports.js';
import { checkLabels } from './check-selectors.js';
import { Findings } from './findings.js';
import { isSet, list, num, obj, str, type Obj } from './yaml-values.js';

// WorkloadGroup rules (Istio's ValidateWorkloadGroup): a template is required (addresses are
// filled in when workloads register, so the template is not checked like a WorkloadEntry),
// labels must be valid, and a readiness probe must be complete.

export function validateWorkloadGroup(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  if (!isSet(spec.template)) {
    f.error(['spec', 'template'], 'a template is required');
    return;
  }
  const labels = new Findings();
  checkLabels(labels, ['spec', 'metadata', 'labels'], obj(spec.metadata)?.labels);
  if (labels.items.length) {
    // Istio stops at invalid labels.
    f.items.push(...labels.items);
    return;
  }
  checkProbe(f, ['spec', 'probe'], obj(spec.probe));
}

function checkProbe(f: Findings, p: FieldPath, probe: Obj | undefined): void {
  if (!probe) return;
  for (const field of ['periodSeconds', 'initialDelaySeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold']) {
    if (num(probe[field]) < 0) f.error([...p, field], `${field} must not be negative`);
  }
  if ('httpGet' in probe) {
    const h = obj(probe.httpGet);
    if (!h) return f.error([...p, 'httpGet'], 'httpGet must not be null');
    const err = checkPort(num(h.port));
    if (err) f.error([...p, 'httpGet', 'port'], err);
    const scheme = str(h.scheme);
    if (scheme !== '' && scheme !== 'HTTP' && scheme !== 'HTTPS') f.error([...p, 'httpGet', 'scheme'], 'httpGet.scheme must be "HTTPS" or "HTTP"');
    list(h.httpHeaders).forEach((hdr, i) => {
      const hp = [...p, 'httpGet', 'httpHeaders', i];
      if (!obj(hdr)) return f.error(hp, 'header must not be null');
      const nameErr = checkStrictHeaderName(str(obj(hdr)?.name));
      if (nameErr) f.error(hp, nameErr);
    });
  } else if ('tcpSocket' in probe) {
    const t = obj(probe.tcpSocket);
    if (!t) return f.error([...p, 'tcpSocket'], 'tcpSocket must not be null');
    const err = checkPort(num(t.port));
    if (err) f.error([...p, 'tcpSocket', 'port'], err);
  } else if ('exec' in probe) {
    const e = obj(probe.exec);
    if (!e) return f.error([...p, 'exec'], 'exec must not be null');
    if (list(e.command).length === 0) f.error([...p, 'exec', 'command'], 'exec.command is required');
  } else {
    f.error(p, 'a probe needs a check method: httpGet, tcpSocket or exec');
  }
}
