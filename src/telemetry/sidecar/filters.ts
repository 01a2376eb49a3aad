import type { HttpFilterFactory } from '../../proxy/filters/http-filter.js';
import { accessLogFilter } from './access-log-filter.js';
import { peerMetadataFilter } from './peer-metadata-filter.js';
import { istioStatsFilter } from './stats-filter.js';

// The sidecar's telemetry filters, by where they go in the default chain: metadata exchange
// first (every outcome, fault aborts included, must know its peer), stats and access log
// anywhere (they act when the stream completes).

export { accessLogFilter, istioStatsFilter, peerMetadataFilter };

/** Stats and access log: their place in the chain does not matter. */
export const completionTelemetryFilters: readonly HttpFilterFactory[] = [istioStatsFilter, accessLogFilter];
