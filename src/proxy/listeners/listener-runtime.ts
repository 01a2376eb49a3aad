import type { Listener } from '../../api/snapshot.js';
import type { FilterChain } from '../filters/filter-chain.js';
import type { ProxyContext } from '../proxy-context.js';

/** What a request needs of its listener: its definition (updated in place when a snapshot keeps the socket), its filters, the sidecar. */
export interface ListenerRuntime {
  def: Listener;
  chain: FilterChain;
  readonly ctx: ProxyContext;
}
