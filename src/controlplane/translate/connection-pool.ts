import type { Notes } from './notes.js';

// DestinationRule connectionPool fields the sidecar does not act on: reported (DESIGN.md,
// invariant 1), the rest of the block still applies.

const UNSUPPORTED: ReadonlyArray<readonly ['tcp' | 'http', string]> = [
  ['tcp', 'tcpKeepalive'],
  ['tcp', 'maxConnectionDuration'],
  ['http', 'h2UpgradePolicy'],
  ['http', 'useClientProtocol'],
  ['http', 'maxConcurrentStreams'],
];

export function noteUnsupportedPoolFields(pool: unknown, origin: string, notes: Notes): void {
  if (pool === null || typeof pool !== 'object') return;
  for (const [section, field] of UNSUPPORTED) {
    const block = (pool as Record<string, unknown>)[section];
    if (block !== null && typeof block === 'object' && (block as Record<string, unknown>)[field] !== undefined) {
      notes.add(origin, `connectionPool.${section}.${field} is not implemented yet; ignored`);
    }
  }
}
