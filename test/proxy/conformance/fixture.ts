import assert from 'node:assert/strict';
import type { Cluster, HashPolicy, LbPolicy, ProxyNode, Route } from '../../../src/api/snapshot.js';
import { parseText } from '../../../src/config/loader.js';
import { httpRoutes } from '../../../src/controlplane/translate/http-routes.js';
import type { NodeContext } from '../../../src/controlplane/translate/node-context.js';
import { Notes } from '../../../src/controlplane/translate/notes.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../../src/platform/local/faulty-upstream.js';
import { faultInjectionFilter } from '../../../src/proxy/filters/fault-injection.js';
import { Sidecar } from '../../../src/proxy/sidecar.js';
import { seededRandom, type RandomSource } from '../../../src/util/seeded-random.js';
import { ManualClock } from '../../support/manual-clock.js';
import { assignment, cluster, endpoint, outboundSnapshot, recorder, testNode, viaProxy, type Done, type ProxyResponse } from '../helpers.js';
import { ArmedLog } from './armed-log.js';
import type { Outcome } from './assertions.js';
import { setup, teardown } from './table.js';

export { assertLocalReply, assertProxied, until, type Outcome } from './assertions.js';

// The conformance table's shared fixture: one real Sidecar per table, on a ManualClock and a
// replaceable random source, in front of faulty upstreams (src/platform/local/faulty-upstream.ts,
// on the same clock) on the table's own loopback /24. Routes are written as Istio writes them
// (a VirtualService's `http` entries) and go through the control plane's own translation
// (src/controlplane/translate/http-routes.ts), so a row exercises the field as a user writes it.
//
// Addresses in `net`: the proxy .1 (outbound listener 15001, h2c accepted), upstreams .10, .11, ...
// in the order given, `dead` .99 (nothing listens: connection refused), .100 and up for a row's
// own servers (peers.ts). Service `svc` answers the
// authority `svc:8080` and is cluster `outbound|8080||svc.test.svc.cluster.local`.

export const NAMESPACE = 'test';
export const PORT = 8080;

/** An upstream name from `upstreams`, `dead`, or an address of a test's own server. */
export type EndpointRef = string | { address: string; port: number };

export interface ServiceSpec {
  endpoints: EndpointRef[];
  /** Default ROUND_ROBIN: which host a try reaches is known. */
  lbPolicy?: LbPolicy;
  hashPolicy?: HashPolicy;
  protocol?: 'http1' | 'http2';
  /** The VirtualService `http` list for this host as written in YAML; absent: istiod's default route. */
  http?: unknown[];
  /** DestinationRule traffic policy pieces, as written (the cluster carries them raw, as from the control plane). */
  connectionPool?: unknown;
  outlierDetection?: unknown;
}

export interface FixtureOptions {
  net: string;
  upstreams?: string[];
  services: Record<string, ServiceSpec>;
  /** Run the sidecar's default filter chain (no recorder: `completion` and `send` cannot be used). */
  defaultFilters?: boolean;
}

export interface RequestInit {
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

export interface Sent extends Outcome {
  /** Every timer the request armed, in order, each fired as soon as it was armed. */
  armed: number[];
  /** Requests each faulty upstream received during the call. */
  hits: Record<string, number>;
}

export const clusterOf = (service: string) => `outbound|${PORT}||${service}.${NAMESPACE}.svc.cluster.local`;

export class ConformanceSidecar {
  readonly clock = new ManualClock();
  /** Read armed delays here, not with `clock.nextArmed` (see ArmedLog). */
  readonly armed = new ArmedLog(this.clock);
  readonly recorder = recorder();
  readonly upstreams: Record<string, FaultyUpstream> = {};
  readonly proxy: { address: string; port: number };
  sidecar!: Sidecar;
  /** Values drawn from the random source since the last `seed` / `useRandom`. */
  draws = 0;
  private rng: RandomSource = seededRandom(7);
  private sequence = 0;
  private readonly claimed = new Set<Done>();

  constructor(readonly options: FixtureOptions) {
    this.proxy = { address: `${options.net}.1`, port: 15001 };
  }

  seed(seed: number): void {
    this.useRandom(seededRandom(seed));
  }

  useRandom(source: RandomSource): void {
    this.rng = source;
    this.draws = 0;
  }

  async start(): Promise<void> {
    const { net, upstreams = [], services } = this.options;
    for (const [i, name] of upstreams.entries()) {
      this.upstreams[name] = await startFaultyUpstream({ host: `${net}.${10 + i}`, port: PORT, name, clock: this.clock });
    }
    const httpFilters = this.options.defaultFilters ? undefined : [faultInjectionFilter, this.recorder.factory];
    this.sidecar = new Sidecar({ clock: this.clock, random: () => (this.draws++, this.rng()), httpFilters });
    const node = testNode(this.proxy.address, { app: 'client', version: 'v1' }, NAMESPACE);
    const names = Object.keys(services);
    const snap = outboundSnapshot('1', node, {
      listeners: [{ name: 'outbound_http_15001', direction: 'outbound', address: this.proxy.address, port: 15001, protocol: 'http', routeConfigName: 'outbound_http', acceptsHttp2: true }],
      routes: [{ name: 'outbound_http', virtualHosts: names.map((n) => ({ name: `${n}:${PORT}`, domains: [`${n}:${PORT}`], routes: routesOf(n, services[n], node) })) }],
      clusters: names.map((n) => clusterFor(n, services[n])),
      endpoints: names.map((n) => assignment(clusterOf(n), services[n].endpoints.map((e) => this.endpointOf(e)))),
    });
    const applied = this.sidecar.applySnapshot(snap);
    assert.equal(applied.ok, true, JSON.stringify(applied));
    await this.sidecar.settled();
    assert.equal(this.sidecar.bindErrors.size, 0, [...this.sidecar.bindErrors.values()].join('; '));
    // Without outlier detection (its interval sweep), every timer a row sees is one its requests armed.
    if (names.every((n) => services[n].outlierDetection === undefined)) assert.equal(this.clock.pending, 0, 'the sidecar arms no timer of its own');
  }

  async stop(): Promise<void> {
    await this.sidecar?.stop(0);
    await Promise.all(Object.values(this.upstreams).map((u) => u.close()));
  }

  /**
   * Starts one request to `service` and returns it unanswered. The path gets a unique `n` query
   * parameter so its completion can be told apart (`completion(path)`).
   */
  request(service: string, path: string, init: RequestInit = {}): { path: string; response: Promise<ProxyResponse> } {
    const unique = `${path}${path.includes('?') ? '&' : '?'}n=${++this.sequence}`;
    const response = viaProxy({ proxy: this.proxy, url: `http://${service}:${PORT}${unique}`, headers: init.headers, method: init.method, body: init.body });
    return { path: unique, response };
  }

  /**
   * One request, firing every timer it arms as soon as it is armed (retry backoffs): only for
   * routes without a timeout and upstreams without a delay, whose timers the row drives itself.
   */
  async send(service: string, path: string, init: RequestInit = {}): Promise<Sent> {
    this.armed.skipAll(); // earlier rows' timers are theirs
    const before = this.requestCounts();
    const call = this.request(service, path, init);
    const armed: number[] = [];
    for (;;) {
      const next = await this.armed.nextOr(call.response);
      if ('ms' in next) {
        armed.push(next.ms);
        this.clock.advance(next.ms);
        continue;
      }
      const after = this.requestCounts();
      const hits = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
      return { res: next.value, done: await this.completion(call.path), armed, hits };
    }
  }

  /** Waits for the response of a `request` and its recorded completion. */
  async outcome(call: { path: string; response: Promise<ProxyResponse> }): Promise<Outcome> {
    const res = await call.response;
    return { res, done: await this.completion(call.path) };
  }

  /** The recorded end of the stream for `path` (as returned by `request`), waiting for it. */
  async completion(path: string): Promise<Done> {
    for (;;) {
      const d = this.recorder.done.find((x) => x.path === path && !this.claimed.has(x));
      if (d) {
        this.claimed.add(d);
        return d;
      }
      await this.recorder.next();
    }
  }

  private requestCounts(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.upstreams).map(([k, u]) => [k, u.requests]));
  }

  private endpointOf(ref: EndpointRef) {
    if (typeof ref !== 'string') return endpoint(ref.address, ref.port);
    if (ref === 'dead') return endpoint(`${this.options.net}.99`, PORT);
    const u = this.upstreams[ref];
    assert.ok(u, `no upstream named ${ref}`);
    return endpoint(u.address, u.port);
  }
}

/** A fixture started before the table's rows and stopped after them. */
export function useSidecar(options: FixtureOptions): ConformanceSidecar {
  const fx = new ConformanceSidecar(options);
  setup(() => fx.start());
  teardown(() => fx.stop());
  return fx;
}

function clusterFor(service: string, spec: ServiceSpec): Cluster {
  const c = cluster(clusterOf(service), spec.lbPolicy ?? 'ROUND_ROBIN', { port: PORT, protocol: spec.protocol ?? 'http1' });
  if (spec.hashPolicy) c.hashPolicy = spec.hashPolicy;
  if (spec.connectionPool !== undefined) c.connectionPool = spec.connectionPool;
  if (spec.outlierDetection !== undefined) c.outlierDetection = spec.outlierDetection;
  return c;
}

/** The routes istiod builds for `service`: its VirtualService's `http` list, or the default route. */
function routesOf(service: string, spec: ServiceSpec, node: ProxyNode): Route[] {
  if (!spec.http) return [{ name: 'default', match: [], action: { kind: 'route', destinations: [{ cluster: clusterOf(service), weight: 100 }] } }];
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: service, namespace: NAMESPACE }, spec: { hosts: [service], http: spec.http } };
  const loaded = parseText(JSON.stringify(vs), `${service}.virtualservice.json`, { defaultNamespace: NAMESPACE });
  assert.deepEqual(loaded.errors.map((e) => e.message), [], `VirtualService ${service} loads`);
  const notes = new Notes();
  // Only what http-routes.ts reads: the node, the notes, and no known services (destinations keep the listener port).
  const ctx = { node, notes, servicesByHost: new Map() } as unknown as NodeContext;
  const routes = httpRoutes(ctx, loaded.resources[0], PORT);
  assert.deepEqual(notes.list(), [], `VirtualService ${service}: every field used is implemented`);
  return routes;
}
