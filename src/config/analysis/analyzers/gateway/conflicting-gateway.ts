import type { Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { selectorMatches } from '../../util.js';
import {
  fullName,
  gatewaySelector,
  parseSelectorString,
  selectorPath,
  selectorString,
  serverHosts,
  serverPort,
  servers,
  type Labels,
} from './util.js';

// Two Gateways that program the same proxy pods with a server on the same port for the same
// host (and bind address) collide: istiod keeps one server and silently drops the other, so
// part of the configuration never takes effect. Flags every Gateway involved.

/** Host → bind address of one Gateway's server on one port. */
type HostsBind = Map<string, string>;

/** One selector and port: which Gateways have a server there, with their hosts. */
interface Slot {
  selector: string;
  port: number;
  gateways: Map<string, HostsBind>;
}

/** Index every Gateway server by (selector, port). A later server on the same port replaces an earlier one, as in Istio. */
function indexServers(gateways: readonly Resource[]): Map<string, Slot> {
  const slots = new Map<string, Slot>();
  for (const gw of gateways) {
    const selector = selectorString(gatewaySelector(gw));
    for (const server of servers(gw)) {
      const port = serverPort(server);
      const key = `${selector}~${port}`;
      let slot = slots.get(key);
      if (!slot) slots.set(key, (slot = { selector, port, gateways: new Map() }));
      const bind = String(server?.bind ?? '');
      slot.gateways.set(fullName(gw), new Map(serverHosts(server).map((h) => [h, bind])));
    }
  }
  return slots;
}

/**
 * Whether two selectors reach the same proxy: identical, or one textually contains the other
 * (a narrower or wider selector) and some pod matches both.
 */
function sameWorkload(selector: Labels, selectorStr: string, other: string, pods: readonly Resource[]): boolean {
  if (selectorStr === other) return true;
  if (!other.includes(selectorStr) && !selectorStr.includes(other)) return false;
  const otherSelector = parseSelectorString(other);
  return pods.some((p) => selectorMatches(selector, p.metadata.labels) && selectorMatches(otherSelector, p.metadata.labels));
}

/** A host of the server is already served, with the same bind address, by the other Gateway. */
function hostsCollide(server: any, known: HostsBind): boolean {
  const bind = String(server?.bind ?? '');
  return serverHosts(server).some((h) => known.has(h) && known.get(h) === bind);
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: 'Finds gateways on the same workload that claim the same port and host',
  inputs: ['Gateway', 'Pod'],
  codes: ['IST0101', 'IST0145'],
  analyze(ctx) {
    const gateways = ctx.list('Gateway');
    const slots = indexServers(gateways);
    const pods = ctx.list('Pod');

    for (const gw of gateways) {
      const name = fullName(gw);
      const selector = gatewaySelector(gw);
      const sel = selectorString(selector);
      const sameSlots = [...slots.values()].filter((s) => sameWorkload(selector, sel, s.selector, pods));

      // Only a Gateway with a selector and no server at all is in no slot.
      if (sel !== '' && sameSlots.length === 0) {
        ctx.report(newMessage('IST0101', gw, ['selector', sel], selectorPath(selector)));
        continue;
      }

      for (const server of servers(gw)) {
        const port = serverPort(server);
        const conflicts: string[] = [];
        for (const slot of sameSlots) {
          if (slot.port !== port) continue;
          for (const [other, hosts] of slot.gateways) {
            if (other !== name && hostsCollide(server, hosts)) conflicts.push(other);
          }
        }
        if (conflicts.length > 0) {
          conflicts.sort();
          ctx.report(newMessage('IST0145', gw, [conflicts.join(','), sel, String(port), serverHosts(server).join(',')]));
        }
      }
    }
  },
};
