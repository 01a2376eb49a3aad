import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage, type Message } from '../../message.js';

// Client TLS in SIMPLE or MUTUAL mode without caCertificates does not verify the server's
// certificate, so traffic to the host can be intercepted. Flags the rule-wide TLS settings and
// each port-level one. A credentialName on a DestinationRule that selects workloads brings
// its own CA (the secret's ca.crt), so that combination is not flagged.

const VERIFYING_MODES = new Set(['SIMPLE', 'MUTUAL']);

function lacksCa(tls: any, hasWorkloadSelector: boolean): boolean {
  if (!VERIFYING_MODES.has(tls?.mode)) return false;
  if (tls.caCertificates) return false;
  return !(tls.credentialName && hasWorkloadSelector);
}

function check(r: Resource, report: (m: Message) => void): void {
  const spec = r.spec ?? {};
  const hasWorkloadSelector = spec.workloadSelector != null;
  const name = r.metadata.name, ns = r.metadata.namespace ?? '', host = spec.host ?? '';
  const tls = spec.trafficPolicy?.tls;
  if (lacksCa(tls, hasWorkloadSelector)) {
    const path = ['spec', 'trafficPolicy', 'tls', 'caCertificates'];
    report(newMessage('IST0128', r, [name, ns, tls.mode, host], path));
  }
  const ports: any[] = spec.trafficPolicy?.portLevelSettings ?? [];
  ports.forEach((p, i) => {
    if (!lacksCa(p?.tls, hasWorkloadSelector)) return;
    const path = ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'caCertificates'];
    report(newMessage('IST0129', r, [name, ns, p.tls.mode, host, p.port?.number ?? ''], path));
  });
}

export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Warns when a DestinationRule originates TLS (SIMPLE or MUTUAL) without CA certificates to verify the server',
  inputs: ['DestinationRule'],
  codes: ['IST0128', 'IST0129'],
  analyze(ctx) {
    for (const dr of ctx.list('DestinationRule')) check(dr, (m) => ctx.report(m));
  },
};
