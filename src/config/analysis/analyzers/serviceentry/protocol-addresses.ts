import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';

// A TCP (or protocol-less) ServiceEntry port has no Host header to route on, so without an
// address every such entry on that port collapses onto one listener. Addresses can come from
// the spec, from istiod's auto-allocation (written to status), or from DNS capture with
// auto-allocation turned on in the mesh's proxy metadata; only when none applies do we warn.

function meshAllocatesAddresses(meshConfigs: Resource[]): boolean {
  return meshConfigs.some((mc) => {
    const meta: Record<string, unknown> = mc.spec?.defaultConfig?.proxyMetadata ?? {};
    if (meta['ISTIO_META_DNS_CAPTURE'] !== 'true') return false;
    return meta['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true' || meta['PILOT_ENABLE_IP_AUTOALLOCATE'] === 'true';
  });
}

function hasAddresses(se: Resource): boolean {
  // Addresses in the spec, or ones istiod allocated and wrote to status.
  return (se.spec?.addresses?.length ?? 0) > 0 || (se.status?.addresses?.length ?? 0) > 0;
}

const needsAddress = (protocol: unknown) => !protocol || String(protocol).toUpperCase() === 'TCP';

export const protocolAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'Finds ServiceEntries with ports whose protocol needs addresses but that have none (and no DNS auto-allocation)',
  inputs: ['ServiceEntry', 'MeshConfig'],
  codes: ['IST0134'],
  analyze(ctx) {
    const autoAllocated = meshAllocatesAddresses(ctx.list('MeshConfig'));
    for (const se of ctx.list('ServiceEntry')) {
      if (autoAllocated || hasAddresses(se)) continue;
      (se.spec?.ports ?? []).forEach((port: any, i: number) => {
        if (needsAddress(port?.protocol)) ctx.report(newMessage('IST0134', se, [], ['spec', 'ports', i, 'name']));
      });
    }
  },
};
