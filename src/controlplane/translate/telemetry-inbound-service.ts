import { serviceEndpoints } from './endpoints.js';
import type { NodeContext } from './node-context.js';

// The service an inbound port serves, for the destination reporter's destination_service:
// istiod puts the services of the instance in its inbound cluster's metadata; the stats filter
// reads the first. Here: the first service (by hostname, then namespace) whose endpoints include
// this instance on this port.

export function inboundService(ctx: NodeContext, port: number): string | undefined {
  const inst = ctx.instance;
  for (const svc of ctx.view.services) {
    if (svc.namespace !== inst.namespace || svc.endpointSource !== 'selector') continue;
    for (const p of svc.ports) {
      if (serviceEndpoints(ctx, svc, p).some((e) => e.instance === inst.name && e.port === port && e.address === inst.address)) return svc.hostname;
    }
  }
  return undefined;
}
