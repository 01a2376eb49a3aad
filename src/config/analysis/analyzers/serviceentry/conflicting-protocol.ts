import { namespaceOf, type Resource } from '../../../../api/resource.js';
import type { Analyzer } from '../../analyzer.js';
import { newMessage } from '../../message.js';
import { nsName } from '../../util.js';

// Two ServiceEntries that give the same host and port different protocols, where a namespace
// sees both, leave the proxy to pick one listener protocol: the other entry's traffic breaks.
// Entries are grouped by (visibility scope, host, port); a namespace also sees the entries
// exported to all. Each ServiceEntry is reported once, on the first conflict found.

const EXPORT_ALL = '*';
const EXPORT_LOCAL = '.';

interface PortUse {
  protocol: string;
  se: Resource;
}

function scopes(se: Resource): Set<string> {
  const exportTo: string[] | undefined = se.spec?.exportTo;
  if (!exportTo || exportTo.length === 0 || exportTo.includes(EXPORT_ALL)) return new Set([EXPORT_ALL]);
  return new Set(exportTo.map((e) => (e === EXPORT_LOCAL ? namespaceOf(se) : e)));
}

const key = (scope: string, host: string, port: unknown) => JSON.stringify([scope, host, port]);

export const conflictingProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'Finds ServiceEntries that give one host and port different protocols',
  inputs: ['ServiceEntry'],
  codes: ['IST0177'],
  analyze(ctx) {
    const index = new Map<string, { scope: string; host: string; port: unknown; uses: PortUse[] }>();
    for (const se of ctx.list('ServiceEntry')) {
      for (const scope of scopes(se)) {
        for (const host of se.spec?.hosts ?? []) {
          for (const p of se.spec?.ports ?? []) {
            const k = key(scope, String(host), p?.number);
            let entry = index.get(k);
            if (!entry) index.set(k, (entry = { scope, host: String(host), port: p?.number, uses: [] }));
            entry.uses.push({ protocol: String(p?.protocol ?? ''), se });
          }
        }
      }
    }

    const reported = new Set<Resource>();
    for (const { scope, host, port, uses: own } of index.values()) {
      const uses = scope === EXPORT_ALL ? own : [...own, ...(index.get(key(EXPORT_ALL, host, port))?.uses ?? [])];
      const protocols = [...new Set(uses.map((u) => u.protocol.toUpperCase()))].sort();
      if (protocols.length < 2) continue;
      const names = [...new Set(uses.map((u) => nsName(u.se)))].sort().join(', ');
      for (const { se } of uses) {
        if (reported.has(se)) continue;
        reported.add(se);
        ctx.report(newMessage('IST0177', se, [names, host, port, protocols.join(', ')], ['metadata', 'name']));
      }
    }
  },
};
