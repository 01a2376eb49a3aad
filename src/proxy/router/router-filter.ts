import type { Readable } from 'node:stream';
import type { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';
import { Details, LocalReplies, ResponseFlag } from '../response-flags.js';
import { redirectLocation, rewrittenPath } from '../routing/path-rewrite.js';
import { pickDestination } from '../routing/route-table.js';
import { Stop, type FilterStatus, type HttpFilter } from '../filters/http-filter.js';
import { sendLocalReply } from './local-reply.js';
import { mirrorRequest } from './mirror.js';
import { hasRequestBody, prepareUpstreamHeaders } from './request-headers.js';
import { UpstreamRequest } from './upstream-request.js';

// The last filter: virtual host and route by the request, then direct response, redirect, or
// a weighted destination -> cluster -> load balancer -> host, and the upstream request.

export class RouterFilter implements HttpFilter {
  readonly name = 'router';

  constructor(private readonly ctx: ProxyContext) {}

  onRequest(s: HttpStream): FilterStatus {
    // A filter before the router (fault injection) may have selected the route already.
    const table = s.route ? null : s.config.routeTableFor(s.listener.def);
    const route = s.route ?? (table ? table.select(s) : null);
    if (!route) {
      sendLocalReply(s, LocalReplies.noRoute);
      return Stop;
    }
    s.route = route;
    if (route.kind === 'direct') {
      const d = route.direct!;
      sendLocalReply(s, { status: d.status, flag: ResponseFlag.None, details: Details.directResponse, body: d.body.toString() });
      return Stop;
    }
    if (route.kind === 'redirect') {
      sendLocalReply(s, { status: route.redirect!.status, flag: ResponseFlag.None, details: Details.redirect, body: '' }, ['location', redirectLocation(s, route)]);
      return Stop;
    }
    const dest = pickDestination(route, this.ctx.random);
    s.destination = dest;
    const cluster = s.config.clusters.get(dest.cluster);
    if (!cluster) {
      sendLocalReply(s, LocalReplies.noCluster);
      return Stop;
    }
    s.cluster = cluster;
    const host = cluster.chooseForStream(s);
    if (!host) {
      sendLocalReply(s, LocalReplies.noHealthyUpstream);
      return Stop;
    }
    s.upstreamHost = host;
    const withBody = hasRequestBody(s.headers);
    const headers = prepareUpstreamHeaders(s);
    const path = rewrittenPath(s, route);
    let body: Readable | null = withBody ? s.req : null;
    if (route.mirror && this.ctx.random() * 100 < route.mirror.percentage) {
      body = mirrorRequest(s, route.mirror.cluster, path, headers, withBody ? s.req : null, this.ctx.stats);
    }
    // Istio puts retry policies on outbound routes only.
    const retry = s.listener.def.direction === 'outbound' ? route.retry : null;
    new UpstreamRequest(s, host).start(path, headers, body, route.timeoutMs, retry);
    return Stop;
  }
}
