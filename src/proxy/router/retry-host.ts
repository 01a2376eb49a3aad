import type { HttpStream } from '../http-stream.js';
import type { UpstreamHost } from '../upstream/host.js';

// Where a retry goes: Envoy's previous_hosts retry host predicate as istiod configures it.

/** Envoy's previous_hosts predicate (host_selection_retry_max_attempts 5 as istiod sets it), then
 * the first healthy host not tried yet, so a retry goes elsewhere whenever another host exists.
 * Consistent-hash clusters keep their choice (istiod adds no predicate there). */
export function retryHost(s: HttpStream, previous: UpstreamHost[]): UpstreamHost | null {
  const cluster = s.cluster!;
  let host = cluster.chooseForStream(s);
  if (host === null || cluster.hashKey !== undefined) return host;
  for (let i = 0; i < 5 && previous.includes(host); i++) host = cluster.chooseForStream(s) ?? host;
  if (!previous.includes(host)) return host;
  for (const h of cluster.healthy) if (!previous.includes(h)) return h;
  return host;
}
