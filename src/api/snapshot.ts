// The configuration a sidecar runs on: one snapshot per proxy, built by the control plane
// from the config store and the service registry, pushed with a version and acknowledged.
// Shaped after Envoy's xDS (listener -> route config -> virtual host -> route -> cluster ->
// endpoints) so that each later feature (resilience, telemetry, authorization) is one more
// field read by one more filter, and so `proxy-config` reads like istioctl's.
//
// Everything here is plain JSON: it crosses a process boundary.

/** Who a proxy is: one per workload instance. */
export interface ProxyNode {
  id: string; // `<instance>.<namespace>`, e.g. `reviews-v2-0.bookinfo`
  instance: string; // workload instance name (pod-like), e.g. `reviews-v2-0`
  workload: string; // workload (deployment-like) name, e.g. `reviews-v2`
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>; // includes `app` and `version`
  address: string; // the instance's own loopback address, e.g. 127.10.0.7
}

export interface ProxySnapshot {
  version: string; // opaque, increases with every change that affects this proxy
  node: ProxyNode;
  listeners: Listener[];
  routes: RouteConfig[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  /** What Istio's Telemetry resources (and mesh defaults) ask of this proxy; absent: the defaults below. */
  telemetry?: TelemetrySettings;
  /** AuthorizationPolicies that select this proxy's workload, for its inbound HTTP listeners (absent: allow all). */
  authorization?: AuthorizationSettings;
  /** RequestAuthentication JWT rules that select this proxy's workload (absent: no JWT is checked). */
  requestAuthentication?: RequestAuthenticationSettings;
}

// ---------------------------------------------------------------- security

/** Istio's string match as AuthorizationPolicy writes it: exact, `prefix*`, `*suffix`, `*`. */
export type AuthzValues = string[];

export interface AuthzSource {
  principals?: AuthzValues;
  notPrincipals?: AuthzValues;
  requestPrincipals?: AuthzValues;
  notRequestPrincipals?: AuthzValues;
  namespaces?: AuthzValues;
  notNamespaces?: AuthzValues;
  ipBlocks?: AuthzValues;
  notIpBlocks?: AuthzValues;
  remoteIpBlocks?: AuthzValues;
  notRemoteIpBlocks?: AuthzValues;
}

export interface AuthzOperation {
  hosts?: AuthzValues;
  notHosts?: AuthzValues;
  ports?: AuthzValues;
  notPorts?: AuthzValues;
  methods?: AuthzValues;
  notMethods?: AuthzValues;
  paths?: AuthzValues;
  notPaths?: AuthzValues;
}

export interface AuthzCondition {
  key: string;
  values?: AuthzValues;
  notValues?: AuthzValues;
}

export interface AuthzRule {
  from?: Array<{ source: AuthzSource }>;
  to?: Array<{ operation: AuthzOperation }>;
  when?: AuthzCondition[];
}

/** One AuthorizationPolicy as it applies to this proxy (Istio's fields, as written). */
export interface AuthzPolicy {
  name: string;
  namespace: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** Empty: an ALLOW policy allows nothing, a DENY policy denies nothing (Istio). */
  rules: AuthzRule[];
}

export interface AuthorizationSettings {
  policies: AuthzPolicy[];
}

/** One RequestAuthentication `jwtRules[]` entry (Istio's fields, as written). */
export interface JwtRule {
  issuer: string;
  audiences?: string[];
  /** The JWKS as JSON text (inline `jwks`). */
  jwks?: string;
  /** Where the sidecar fetches the JWKS (`jwksUri`; http(s), loopback in the local mesh). */
  jwksUri?: string;
  fromHeaders?: Array<{ name: string; prefix?: string }>;
  fromParams?: string[];
  forwardOriginalToken?: boolean;
  /** `RequestAuthentication ns/name`. */
  origin: string;
}

export interface RequestAuthenticationSettings {
  rules: JwtRule[];
}

/** Mutual TLS on an inbound listener (PeerAuthentication's mode for its port); absent: DISABLE (plaintext only). */
export interface ListenerMtls {
  mode: 'STRICT' | 'PERMISSIVE';
}

/**
 * How an outbound cluster secures its connections (DestinationRule `trafficPolicy.tls`, or
 * Istio's auto mTLS): ISTIO_MUTUAL presents this workload's certificate and verifies the peer's
 * against the mesh root. `auto`: chosen by the control plane, used only towards endpoints with a
 * sidecar (`Endpoint.tlsMode`); set by a DestinationRule, used towards every endpoint.
 */
export interface ClusterTransportSecurity {
  mode: 'ISTIO_MUTUAL' | 'DISABLE';
  auto?: boolean;
}

/** Telemetry for one proxy, resolved from the Telemetry resources that select it (Istio's precedence). */
export interface TelemetrySettings {
  /** Access logging (Istio: off unless a Telemetry resource or the mesh config turns it on). */
  accessLog?: {
    enabled: boolean;
    format: 'text' | 'json';
    /** The listener directions that log (Telemetry `match.mode`: CLIENT = outbound, SERVER = inbound); absent: both. */
    directions?: Array<'inbound' | 'outbound'>;
  };
  /** Istio standard metrics (on by default; a Telemetry `metrics` override can disable them). */
  metrics?: {
    enabled: boolean;
    /** Istio metric names (`REQUEST_COUNT`, `TCP_SENT_BYTES`, ...) a Telemetry override disables, per listener direction. */
    disabled?: { inbound?: string[]; outbound?: string[] };
  };
  /** Trace sampling in percent (Istio's default: 1%). */
  tracing?: { samplingPercent: number };
}

// ---------------------------------------------------------------- listeners

export interface Listener {
  name: string; // `outbound_http_15001`, `inbound_9080`, `outbound_tcp_3306`
  direction: 'inbound' | 'outbound';
  address: string;
  port: number;
  /** `http`: HTTP/1.1 (and h2c when supported); `tcp`: bytes to one cluster. */
  protocol: 'http' | 'tcp';
  /** For http listeners: the RouteConfig that routes their requests. */
  routeConfigName?: string;
  /**
   * For http listeners: also accept h2c (HTTP/2 with prior knowledge, gRPC's way) on the same
   * port. Set for ports declared http2/grpc. Off, the listener is a plain HTTP/1.1 server, which
   * keeps node's native parsing path (sniffing the first bytes in JavaScript costs ~15% CPU per
   * request, measured with `meshmedic bench proxy`).
   */
  acceptsHttp2?: boolean;
  /** For tcp listeners: the cluster all connections go to (Istio's tcp route with one destination). */
  tcpCluster?: string;
  /** Inbound: mutual TLS as PeerAuthentication sets it for this port (absent: plaintext only). */
  mtls?: ListenerMtls;
}

// ---------------------------------------------------------------- routes

export interface RouteConfig {
  name: string; // `outbound_http`, `inbound_9080`
  virtualHosts: VirtualHost[];
}

/** A set of domains (Host/authority values) sharing an ordered route list. */
export interface VirtualHost {
  name: string; // `reviews.bookinfo.svc.cluster.local:9080`
  /**
   * Exact authorities this virtual host answers, with and without port:
   * `reviews`, `reviews:9080`, `reviews.bookinfo`, `reviews.bookinfo.svc.cluster.local:9080`, ...
   * `*.example.com` wildcards and `*` are allowed as in Envoy (most specific wins).
   */
  domains: string[];
  routes: Route[]; // first match wins
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** One Istio HTTPMatchRequest: every condition must hold. */
export interface RouteMatch {
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  /** Lower-case header names. `{ present: true }` for Istio's empty match (header must be there). */
  headers?: Record<string, StringMatch | { present: true }>;
  withoutHeaders?: Record<string, StringMatch | { present: true }>;
  queryParams?: Record<string, { exact: string } | { regex: string } | { present: true }>;
  port?: number; // the port the request was addressed to (from the authority)
  sourceLabels?: Record<string, string>; // labels of the calling workload (this proxy's node)
  sourceNamespace?: string;
  ignoreUriCase?: boolean;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface WeightedCluster {
  cluster: string;
  weight: number; // weights of a route add up to 100 (the control plane normalizes)
  /** Header operations of this destination (Istio's HTTPRouteDestination.headers). */
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
}

export interface RouteAction {
  kind: 'route';
  destinations: WeightedCluster[];
  /** Rewrite of the path prefix that matched (Istio `rewrite.uri`), or of the whole path for exact/regex matches. */
  rewrite?: { uri?: string; authority?: string; uriRegexRewrite?: { match: string; rewrite: string } };
  mirror?: { cluster: string; percentage: number }; // percentage 0..100
  /** Filled by the resilience issue: timeouts, retries, fault injection. Proxies ignore what they do not know yet. */
  timeoutMs?: number;
  retries?: unknown;
  fault?: unknown;
}

export interface RedirectAction {
  kind: 'redirect';
  uri?: string;
  authority?: string;
  scheme?: string;
  port?: number;
  status: number; // 301 by default
}

export interface DirectResponseAction {
  kind: 'direct';
  status: number;
  body?: string;
}

export interface Route {
  name: string; // Istio route name, or `<virtualservice>.<namespace>[<index>]`
  match: RouteMatch[]; // alternatives (OR); empty matches everything
  action: RouteAction | RedirectAction | DirectResponseAction;
  /** Header operations of the whole route (Istio's HTTPRoute.headers). */
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
  /** Where the route came from, for proxy-config and diagnosis: `VirtualService ns/name`, or `default`. */
  origin?: string;
}

// ---------------------------------------------------------------- clusters

export type LbPolicy = 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'PASSTHROUGH';

export interface HashPolicy {
  header?: string; // lower-case name
  cookie?: { name: string; ttlMs?: number; path?: string };
  sourceIp?: boolean;
  queryParameter?: string;
}

export interface Cluster {
  /** Istio's naming: `outbound|9080|v1|reviews.bookinfo.svc.cluster.local`, `inbound|9080||`. */
  name: string;
  direction: 'inbound' | 'outbound';
  service?: string; // FQDN of the service; on inbound clusters the first service selecting the instance on that port (Istio's cluster metadata, for telemetry)
  subset?: string;
  port: number;
  protocol: 'http1' | 'http2' | 'tcp';
  lbPolicy: LbPolicy;
  hashPolicy?: HashPolicy;
  ringSize?: number; // ring hash minimum ring size (Istio's default 1024)
  /** The DestinationRule traffic policy pieces the resilience issue enforces, as written (Istio JSON). */
  connectionPool?: unknown;
  outlierDetection?: unknown;
  tls?: unknown;
  /** Mutual TLS towards the endpoints (auto mTLS, or the DestinationRule's tls mode); absent: plaintext. */
  transportSecurity?: ClusterTransportSecurity;
  /** Where the policy came from: `DestinationRule ns/name`, or absent for defaults. */
  origin?: string;
}

export interface Endpoint {
  address: string;
  port: number;
  /** For inbound clusters of synthetic workloads: the application's unix socket (address/port then unused). */
  socketPath?: string;
  instance: string; // workload instance name (or WorkloadEntry/ServiceEntry endpoint name)
  /** The workload and namespace behind the endpoint (istiod's endpoint metadata `istio.workload`), for telemetry's destination labels. */
  workload?: string;
  namespace?: string;
  labels: Record<string, string>;
  weight?: number;
  /** False when the registry knows the instance is down (process exited). */
  healthy: boolean;
  /** `istio`: the endpoint has a sidecar that accepts mutual TLS (Istio's `security.istio.io/tlsMode` label), the target of auto mTLS. */
  tlsMode?: 'istio';
}

export interface ClusterLoadAssignment {
  clusterName: string;
  endpoints: Endpoint[];
}

// ---------------------------------------------------------------- transport

/**
 * The proxy <-> control plane protocol (HTTP on loopback):
 * - `GET /xds/v1/stream?node=<id>`: a long-lived response of newline-delimited JSON
 *   `PushMessage`s. On (re)connect the control plane sends the current snapshot first.
 * - `POST /xds/v1/ack` with an `AckMessage` body: ACK (no `error`) or NACK (with `error`).
 * The proxy keeps serving the last snapshot it accepted when the control plane is gone, and
 * reconnects with backoff.
 */
export interface PushMessage {
  type: 'snapshot';
  nonce: string;
  snapshot: ProxySnapshot;
}

export interface AckMessage {
  node: string;
  version: string;
  nonce: string;
  error?: string; // present: NACK, the proxy kept its previous snapshot
}

/** Ports every sidecar uses on its own address, as Istio does (15001 outbound, 15006 inbound capture is not needed here). */
export const OUTBOUND_HTTP_PORT = 15001;
export const PROXY_ADMIN_PORT = 15000;
/** Where a sidecar serves Istio's standard metrics in Prometheus text format (`/stats/prometheus`), as Envoy under Istio does. */
export const PROXY_STATS_PORT = 15090;

// ---------------------------------------------------------------- registry

/** How a sidecar reaches its own application: a unix socket (synthetic workloads) or host:port (processes you start). */
export type AppEndpoint = { socketPath: string } | { host: string; port: number };

export type PortProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

/** One running instance of a workload (a Pod, in Kubernetes terms), as the registry knows it. */
export interface WorkloadInstance {
  name: string; // unique in its namespace, e.g. `reviews-v2-0`
  workload: string; // e.g. `reviews-v2`
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>; // `app`, `version`, ...
  /** The instance's own loopback address; its sidecar listens there (inbound ports, 15001, 15000). */
  address: string;
  /** Ports the application serves: `port` is what the mesh dials (the sidecar's inbound listener). */
  ports: Array<{ name: string; port: number; protocol: PortProtocol; app: AppEndpoint }>;
  healthy: boolean;
  source: 'topology' | 'workloadentry' | 'registered';
}
