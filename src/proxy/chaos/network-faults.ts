import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TimerHandle } from '../clock.js';
import { continueFilterChain } from '../filters/filter-chain.js';
import { Continue, Stop, type FilterStatus, type HttpFilter, type HttpFilterFactory } from '../filters/http-filter.js';
import type { HttpStream } from '../http-stream.js';
import type { ProxyContext } from '../proxy-context.js';

// Chaos network faults (`meshmedic chaos inject network-delay`): this sidecar holds outbound
// requests for a while before they leave it, as a slow network between it and its
// destinations would. The hold is on the source side, after the request's clock started and
// before the router: the source-reported duration grows, the destination-reported one does
// not, and no response flag is set (a network adds no flag) — exactly how a network fault
// differs from a slow service in Istio's metrics.
//
// A fault names the hosts it applies to (every form a caller may write: `reviews`,
// `reviews.bookinfo`, `reviews.bookinfo.svc.cluster.local`), or none for every outbound
// request of this sidecar (an instance whose network is slow). Set through the admin port:
//   GET /chaos/network   {"faults": {<injection id>: {delayMs, percent, hosts?}}}
//   PUT /chaos/network   the same body; replaces the whole set (the mesh daemon sends all of it)

export const NETWORK_FAULTS_PATH = '/chaos/network';

export interface NetworkFault {
  delayMs: number;
  percent: number; // 0..100 of requests held
  /** Lower-case host names (no port) the fault applies to; absent: every outbound request. */
  hosts?: string[];
}

interface Compiled {
  delayMs: number;
  percent: number;
  hosts: Set<string> | null;
}

export class NetworkFaults {
  private set: Record<string, NetworkFault> = {};
  /** Empty when no fault is in force: the request path checks its length and nothing else. */
  compiled: Compiled[] = [];

  get current(): Record<string, NetworkFault> {
    return structuredClone(this.set);
  }

  replace(set: Record<string, NetworkFault>): void {
    this.set = structuredClone(set);
    this.compiled = Object.values(this.set).map((f) => ({ delayMs: f.delayMs, percent: f.percent, hosts: f.hosts ? new Set(f.hosts) : null }));
  }
}

const faultsByContext = new WeakMap<ProxyContext, NetworkFaults>();

export function networkFaultsOf(ctx: ProxyContext): NetworkFaults {
  let f = faultsByContext.get(ctx);
  if (!f) faultsByContext.set(ctx, (f = new NetworkFaults()));
  return f;
}

class NetworkDelayFilter implements HttpFilter {
  readonly name = 'chaos.network';

  constructor(
    private readonly ctx: ProxyContext,
    private readonly faults: NetworkFaults,
  ) {}

  onRequest(s: HttpStream): FilterStatus {
    const list = this.faults.compiled;
    if (list.length === 0) return Continue;
    const host = hostOf(s.authority);
    let delayMs = 0;
    for (const f of list) {
      if (f.hosts !== null && !f.hosts.has(host)) continue;
      if (f.percent >= 100 || (f.percent > 0 && this.ctx.random() * 100 < f.percent)) delayMs += f.delayMs;
    }
    if (delayMs <= 0) return Continue;
    this.ctx.stats.inc('chaos.network_delays');
    let timer: TimerHandle = undefined;
    const onClose = () => this.ctx.clock.clearTimeout(timer);
    s.res.once('close', onClose);
    timer = this.ctx.clock.setTimeout(() => {
      s.res.off('close', onClose);
      if (!s.completed && !s.res.destroyed) continueFilterChain(s);
    }, delayMs);
    return Stop;
  }
}

function hostOf(authority: string): string {
  const colon = authority.lastIndexOf(':');
  return colon < 0 || authority.indexOf(']', colon) >= 0 ? authority : authority.slice(0, colon);
}

/** Outbound HTTP listeners only: a network fault is held where the request leaves the source. */
export const networkDelayFilter: HttpFilterFactory = (listener, ctx) => (listener.direction === 'outbound' ? new NetworkDelayFilter(ctx, networkFaultsOf(ctx)) : null);

/** The admin endpoint: GET shows the faults in force, PUT replaces them. */
export function serveNetworkFaults(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const faults = networkFaultsOf(ctx);
  const reply = (status: number, body: unknown) => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.method === 'GET') return reply(200, { faults: faults.current });
  if (req.method !== 'PUT') return reply(405, { error: { code: 'E_METHOD', message: `GET or PUT ${NETWORK_FAULTS_PATH}` } });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let set: Record<string, NetworkFault>;
    try {
      set = validate((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { faults?: unknown }).faults);
    } catch (e) {
      return reply(400, { error: { code: 'E_BAD_FAULT', message: (e as Error).message } });
    }
    faults.replace(set);
    ctx.log(`chaos: network faults in force: ${Object.keys(set).join(', ') || 'none'}`);
    reply(200, { faults: faults.current });
  });
}

function validate(value: unknown): Record<string, NetworkFault> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('faults must be an object keyed by injection id');
  const out: Record<string, NetworkFault> = {};
  for (const [id, raw] of Object.entries(value as Record<string, NetworkFault>)) {
    const { delayMs, percent, hosts } = raw ?? ({} as NetworkFault);
    if (typeof delayMs !== 'number' || !(delayMs >= 0 && delayMs <= 600_000)) throw new Error(`faults.${id}.delayMs must be within 0..600000`);
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) throw new Error(`faults.${id}.percent must be within 0..100`);
    if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string'))) throw new Error(`faults.${id}.hosts must be a list of host names`);
    out[id] = { delayMs, percent, ...(hosts && { hosts: hosts.map((h) => h.toLowerCase()) }) };
  }
  return out;
}
