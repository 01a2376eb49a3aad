import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import type { Message } from '../../../src/config/analysis/message.js';
import { schemaValidationAnalyzers } from '../../../src/config/analysis/analyzers/schema/validation.js';
import { parseDuration } from '../../../src/config/analysis/analyzers/schema/check-durations.js';
import { checkRegex } from '../../../src/config/analysis/analyzers/schema/check-regex.js';

function analyzer(kind: string): Analyzer {
  const a = schemaValidationAnalyzers.find((x) => x.name === `schema.ValidationAnalyzer.${kind}`);
  assert.ok(a, kind);
  return a;
}

function messages(kind: string, yaml: string): Message[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  return runAnalyzers(resources, [analyzer(kind)], { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks() }).messages;
}

/** `CODE text` of every message, sorted. */
function run(kind: string, yaml: string): string[] {
  return messages(kind, yaml).map((m) => `${m.code} ${m.text}`).sort();
}

/** Compares message lists without caring about order. */
const same = (actual: string[], expected: string[]) => assert.deepEqual(actual, [...expected].sort());

const codes = (kind: string, yaml: string) => messages(kind, yaml).map((m) => m.code).sort();

const meta = (kind: string, apiVersion: string, name = 'x') => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: ${name}, namespace: default }\n`;

test('one analyzer per Istio kind, named as Istio names them', () => {
  assert.deepEqual(schemaValidationAnalyzers.map((a) => a.name).sort(), [
    'AuthorizationPolicy', 'DestinationRule', 'EnvoyFilter', 'Gateway', 'PeerAuthentication', 'ProxyConfig', 'RequestAuthentication',
    'ServiceEntry', 'Sidecar', 'Telemetry', 'VirtualService', 'WasmPlugin', 'WorkloadEntry', 'WorkloadGroup',
  ].map((k) => `schema.ValidationAnalyzer.${k}`));
  for (const a of schemaValidationAnalyzers) assert.equal(a.inputs.length, 1);
});

// ------------------------------------------------------------------------------ VirtualService

const vs = (body: string) => `${meta('VirtualService', 'networking.istio.io/v1', 'reviews')}spec:\n${body}`;

test('VirtualService: a valid bookinfo route has no findings', () => {
  const yaml = vs(`  hosts: [reviews]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
    timeout: 10s
    retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure,503" }
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 80 }
    - { destination: { host: reviews, subset: v3 }, weight: 20 }`);
  same(run('VirtualService', yaml), []);
});

test('VirtualService: errors name the field and point at its line', () => {
  const yaml = vs(`  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: V_1 }
    timeout: 500us
    retries: { attempts: 0, retryOn: 5xx }
    fault: { abort: { httpStatus: 700 } }`);
  const ms = messages('VirtualService', yaml);
  assert.deepEqual(ms.map((m) => `${m.code} ${m.text}`).sort(), [
    'IST0106 Schema validation error: spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in the range 200..599',
    'IST0106 Schema validation error: spec.http[0].retries: retry settings have no effect when attempts is 0 (retries disabled)',
    'IST0106 Schema validation error: spec.http[0].route[0].destination.subset: subset name "V_1" is not a DNS-1123 label',
    'IST0106 Schema validation error: spec.http[0].timeout: duration 500us must be at least 1ms',
  ]);
  const timeout = ms.find((m) => m.text.includes('timeout'));
  assert.equal(timeout?.line, 9); // the `timeout:` line
});

test('VirtualService: hosts, wildcards, weights and regexes', () => {
  const yaml = vs(`  hosts: ["*", "bad_host.com"]
  http:
  - match: [{ uri: { regex: "(?=lookahead)" } }]
    route:
    - { destination: { host: a }, weight: 0 }
    - { destination: { host: b }, weight: 0 }`);
  same(run('VirtualService', yaml), [
    'IST0106 Schema validation error: spec.hosts[0]: the wildcard host * is not allowed for VirtualServices that apply to the mesh',
    'IST0106 Schema validation error: spec.hosts[1]: domain name "bad_host.com" is invalid: label "bad_host" is not a DNS-1123 label or wildcard',
    'IST0106 Schema validation error: spec.http[0].match[0].uri.regex: regex "(?=lookahead)" uses lookaround, which RE2 does not support',
    'IST0106 Schema validation error: spec.http[0].route: the total weight of the route destinations is 0',
  ]);
});

test('VirtualService: duplicate and overlapping matches are IST0130/IST0131, not IST0106', () => {
  const yaml = vs(`  hosts: [reviews]
  http:
  - name: first
    match: [{ uri: { prefix: /api } }]
    route: [{ destination: { host: reviews } }]
  - name: second
    match: [{ name: again, uri: { prefix: /api } }]
    route: [{ destination: { host: reviews } }]
  - name: third
    match: [{ uri: { prefix: /api/v1 } }]
    route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: reviews } }]`);
  same(run('VirtualService', yaml), [
    'IST0130 VirtualService rule "second" is unreachable: all its matches are used by earlier rules.',
    'IST0130 VirtualService rule #4 is unreachable: only the last rule can have no matches.',
    'IST0131 VirtualService rule "second" match "again" is not used (duplicate or overlapping match in rule "first").',
    'IST0131 VirtualService rule "third" match #0 of prefix /api/v1 is not used (duplicate or overlapping match in rule #0 of prefix /api on "first").',
  ]);
});

test('VirtualService: different methods do not overlap', () => {
  const yaml = vs(`  hosts: [reviews]
  http:
  - match: [{ uri: { prefix: /api }, method: { exact: GET } }]
    route: [{ destination: { host: reviews } }]
  - match: [{ uri: { prefix: /api/v1 }, method: { exact: POST } }]
    route: [{ destination: { host: reviews } }]`);
  same(run('VirtualService', yaml), []);
});

test('VirtualService: TLS SNI hosts must be covered by the hosts; gateway references are checked', () => {
  const yaml = vs(`  hosts: [www.example.com]
  gateways: [istio-system/my_gateway]
  tls:
  - match: [{ port: 443, sniHosts: [api.example.com] }]
    route: [{ destination: { host: api.example.com } }]`);
  same(run('VirtualService', yaml), [
    'IST0106 Schema validation error: spec.gateways[0]: invalid gateway name "my_gateway"',
    'IST0106 Schema validation error: spec.tls[0].match[0].sniHosts[0]: SNI host "api.example.com" is not covered by any host of the VirtualService: [www.example.com]',
  ]);
});

// ----------------------------------------------------------------------------- DestinationRule

const dr = (body: string) => `${meta('DestinationRule', 'networking.istio.io/v1', 'reviews')}spec:\n  host: reviews\n${body}`;

test('DestinationRule: valid subsets and policies have no findings', () => {
  const yaml = dr(`  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 100, connectTimeout: 30ms }, http: { http2MaxRequests: 1000 } }
    outlierDetection: { consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m }
    loadBalancer: { simple: LEAST_REQUEST }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 }, trafficPolicy: { tls: { mode: ISTIO_MUTUAL } } }`);
  same(run('DestinationRule', yaml), []);
});

test('DestinationRule: duplicate subsets, bad labels, empty policy, maglev and locality weights', () => {
  const yaml = dr(`  trafficPolicy:
    loadBalancer:
      consistentHash: { maglev: { tableSize: 100 } }
      localityLbSetting: { distribute: [{ from: us-east/*, to: { us-east/*: 60, us-west/*: 30 } }] }
  subsets:
  - { name: v1, labels: { version: "v 1" } }
  - { name: v1, trafficPolicy: {} }`);
  same(run('DestinationRule', yaml), [
    'IST0106 Schema validation error: spec.subsets[0].labels.version: invalid label value "v 1"',
    'IST0106 Schema validation error: spec.subsets[1].name: subset name v1 is used more than once',
    'IST0106 Schema validation error: spec.subsets[1].trafficPolicy: a traffic policy must set at least one field',
    'IST0106 Schema validation error: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: maglev tableSize 100 must be a prime number',
    'IST0106 Schema validation error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality weights add up to 90, not 100',
  ]);
});

test('DestinationRule: MUTUAL client TLS needs certificates; deprecated fields warn', () => {
  const yaml = dr(`  trafficPolicy:
    tls: { mode: MUTUAL }
    outlierDetection: { consecutiveErrors: 5 }`);
  assert.deepEqual(codes('DestinationRule', yaml), ['IST0106', 'IST0106', 'IST0133']);
});

// ------------------------------------------------------------------------------------ Gateway

const gw = (name: string, servers: string) => `${meta('Gateway', 'networking.istio.io/v1', name)}spec:\n  selector: { istio: ingressgateway }\n  servers:\n${servers}`;

test('Gateway: HTTP and HTTPS servers with a credential are valid', () => {
  const yaml = gw('bookinfo-gateway', `  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
    tls: { httpsRedirect: true }
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ["bookinfo/*.example.com"]
    tls: { mode: SIMPLE, credentialName: bookinfo-cert }`);
  same(run('Gateway', yaml), []);
});

test('Gateway: name, missing TLS, duplicate port names and bad hosts', () => {
  const yaml = gw('my.gateway', `  - port: { number: 443, name: web, protocol: HTTPS }
    hosts: [foo]
  - port: { number: 8080, name: web, protocol: HTTP }
    hosts: ["*.example.com"]`);
  same(run('Gateway', yaml), [
    'IST0106 Schema validation error: metadata.name: gateway name "my.gateway" is not a DNS-1123 label (no dots)',
    'IST0106 Schema validation error: spec.servers[0]: a server with protocol HTTPS needs tls settings',
    'IST0106 Schema validation error: spec.servers[0].hosts[0]: short names (not fully qualified) are not allowed',
    'IST0106 Schema validation error: spec.servers[1].port.name: port name web is used by more than one server',
  ]);
});

// ------------------------------------------------------------------------------- ServiceEntry

const se = (body: string) => `${meta('ServiceEntry', 'networking.istio.io/v1', 'external')}spec:\n${body}`;

test('ServiceEntry: an external HTTPS API is valid', () => {
  const yaml = se(`  hosts: [api.example.com]
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  location: MESH_EXTERNAL
  resolution: DNS`);
  same(run('ServiceEntry', yaml), []);
});

test('ServiceEntry: wildcard host, duplicate ports, bad protocol, endpoints with NONE', () => {
  const yaml = se(`  hosts: ["*"]
  ports:
  - { number: 80, name: http, protocol: HTTP }
  - { number: 80, name: web, protocol: FTP }
  endpoints: [{ address: 10.0.0.1 }]`);
  same(run('ServiceEntry', yaml), [
    'IST0106 Schema validation error: spec.endpoints: resolution NONE takes no endpoints',
    'IST0106 Schema validation error: spec.hosts[0]: host * is not allowed',
    'IST0106 Schema validation error: spec.ports[1].number: port 80 is listed more than once',
    'IST0106 Schema validation error: spec.ports[1].protocol: unsupported protocol "FTP"',
  ]);
});

// ------------------------------------------------------------------ WorkloadEntry, WorkloadGroup

test('WorkloadEntry: address required, ports in range', () => {
  const ok = `${meta('WorkloadEntry', 'networking.istio.io/v1')}spec: { address: 10.0.0.5, ports: { http: 8080 }, labels: { app: vm } }`;
  same(run('WorkloadEntry', ok), []);
  const bad = `${meta('WorkloadEntry', 'networking.istio.io/v1')}spec: { ports: { http: 8080 } }\n---\n${meta('WorkloadEntry', 'networking.istio.io/v1', 'y')}spec: { address: 10.0.0.5, ports: { http: 70000 } }`;
  same(run('WorkloadEntry', bad), [
    'IST0106 Schema validation error: spec: an address is required',
    'IST0106 Schema validation error: spec.ports.http: port number 70000 is not in the range 1..65535',
  ]);
});

test('WorkloadGroup: template required, probe complete', () => {
  const ok = `${meta('WorkloadGroup', 'networking.istio.io/v1')}spec:\n  template: { ports: { http: 8080 } }\n  probe: { httpGet: { port: 8080, path: /ready } }`;
  same(run('WorkloadGroup', ok), []);
  const bad = `${meta('WorkloadGroup', 'networking.istio.io/v1')}spec:\n  template: {}\n  probe: { periodSeconds: -1 }\n---\n${meta('WorkloadGroup', 'networking.istio.io/v1', 'y')}spec: { metadata: { labels: { app: x } } }`;
  same(run('WorkloadGroup', bad), [
    'IST0106 Schema validation error: spec.probe: a probe needs a check method: httpGet, tcpSocket or exec',
    'IST0106 Schema validation error: spec.probe.periodSeconds: periodSeconds must not be negative',
    'IST0106 Schema validation error: spec.template: a template is required',
  ]);
});

// ------------------------------------------------------------------------------------ Sidecar

test('Sidecar: a namespace egress restriction is valid', () => {
  const yaml = `${meta('Sidecar', 'networking.istio.io/v1', 'default')}spec:\n  egress: [{ hosts: ["./*", "istio-system/*"] }]\n  outboundTrafficPolicy: { mode: REGISTRY_ONLY }`;
  same(run('Sidecar', yaml), []);
});

test('Sidecar: empty, catch-all not last, hosts without namespace', () => {
  same(run('Sidecar', `${meta('Sidecar', 'networking.istio.io/v1')}spec: {}`), [
    'IST0106 Schema validation error: spec: the Sidecar is empty: it sets no ingress, egress, outboundTrafficPolicy or inboundConnectionPool',
  ]);
  const yaml = `${meta('Sidecar', 'networking.istio.io/v1')}spec:
  egress:
  - hosts: ["*/*"]
  - port: { number: 9080, protocol: HTTP, name: http }
    hosts: [reviews.default.svc.cluster.local]
  ingress:
  - port: { number: 9080, protocol: HTTP, name: http }
    defaultEndpoint: 10.1.1.1:8080`;
  same(run('Sidecar', yaml), [
    'IST0106 Schema validation error: spec.egress[0]: the egress listener without a port must be the last one',
    'IST0106 Schema validation error: spec.egress[1].hosts[0]: host must have the form namespace/dnsName',
    'IST0106 Schema validation error: spec.ingress[0].defaultEndpoint: defaultEndpoint must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port>, unix://<path> or unset',
  ]);
});

// -------------------------------------------------------------------------------- EnvoyFilter

test('EnvoyFilter: always warned about; incomplete patches are errors', () => {
  const ok = `${meta('EnvoyFilter', 'networking.istio.io/v1alpha3')}spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: { context: SIDECAR_INBOUND, listener: { filterChain: { filter: { name: envoy.filters.network.http_connection_manager } } } }
    patch: { operation: INSERT_BEFORE, value: { name: envoy.lua } }`;
  assert.deepEqual(codes('EnvoyFilter', ok), ['IST0133']);
  const bad = `${meta('EnvoyFilter', 'networking.istio.io/v1alpha3')}spec:
  configPatches:
  - applyTo: CLUSTER
    patch: { operation: MERGE }
  - patch: { operation: REMOVE }`;
  same(run('EnvoyFilter', bad).filter((m) => m.startsWith('IST0106')), [
    'IST0106 Schema validation error: spec.configPatches[0].patch: patch value is missing (needed by operation MERGE)',
    'IST0106 Schema validation error: spec.configPatches[1].applyTo: applyTo is missing',
  ]);
});

// -------------------------------------------------------------------------------- ProxyConfig

test('ProxyConfig: concurrency must not be negative', () => {
  same(run('ProxyConfig', `${meta('ProxyConfig', 'networking.istio.io/v1beta1')}spec: { concurrency: 2, selector: { matchLabels: { app: x } } }`), []);
  same(run('ProxyConfig', `${meta('ProxyConfig', 'networking.istio.io/v1beta1')}spec: { concurrency: -1 }`), [
    'IST0106 Schema validation error: spec.concurrency: concurrency must not be negative',
  ]);
});

// ------------------------------------------------------------------------- PeerAuthentication

test('PeerAuthentication: port-level mTLS needs a selector', () => {
  const ok = `${meta('PeerAuthentication', 'security.istio.io/v1')}spec: { selector: { matchLabels: { app: x } }, mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: DISABLE } } }`;
  same(run('PeerAuthentication', ok), []);
  const bad = `${meta('PeerAuthentication', 'security.istio.io/v1')}spec: { mtls: { mode: STRICT }, portLevelMtls: { "0": { mode: DISABLE } } }`;
  same(run('PeerAuthentication', bad), [
    'IST0106 Schema validation error: spec.portLevelMtls: a mesh- or namespace-wide PeerAuthentication (no selector labels) cannot have portLevelMtls',
    'IST0106 Schema validation error: spec.portLevelMtls.0: port 0 is not in the range 1..65535',
  ]);
});

// ------------------------------------------------------------------------ AuthorizationPolicy

test('AuthorizationPolicy: a typical ALLOW policy is valid', () => {
  const yaml = `${meta('AuthorizationPolicy', 'security.istio.io/v1')}spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/productpage"] } }]
    to: [{ operation: { methods: [GET], ports: ["9080"] } }]
    when: [{ key: "request.headers[version]", values: [v1] }]`;
  same(run('AuthorizationPolicy', yaml), []);
});

test('AuthorizationPolicy: DENY without rules, bad IPs and keys, HTTP-only DENY warning', () => {
  const bad = `${meta('AuthorizationPolicy', 'security.istio.io/v1')}spec: { action: DENY }
---
${meta('AuthorizationPolicy', 'security.istio.io/v1', 'y')}spec:
  action: DENY
  rules:
  - from: [{ source: { ipBlocks: ["10.0.0.300"] } }]
    to: [{ operation: { paths: ["/admin"] } }]
    when: [{ key: source.nonsense, values: [a] }]`;
  same(run('AuthorizationPolicy', bad), [
    'IST0106 Schema validation error: spec: a DENY policy without rules never triggers; add an empty rule {} to apply it to every request',
    'IST0106 Schema validation error: spec.rules[0].from[0].source.ipBlocks[0]: bad IP address "10.0.0.300"',
    // Istio checks the key against both lists, even an empty one.
    'IST0106 Schema validation error: spec.rules[0].when[0].notValues: invalid notValues for key source.nonsense: unknown key source.nonsense',
    'IST0106 Schema validation error: spec.rules[0].when[0].values: invalid values for key source.nonsense: unknown key source.nonsense',
    'IST0133 Schema validation warning: spec.rules[0]: this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in its scope; name the ports explicitly',
  ]);
});

test('AuthorizationPolicy: serviceAccounts are a source of their own, checked for form', () => {
  const ok = `${meta('AuthorizationPolicy', 'security.istio.io/v1')}spec:\n  rules: [{ from: [{ source: { serviceAccounts: [default/productpage, reviews] } }] }]`;
  same(run('AuthorizationPolicy', ok), []);
  const bad = `${meta('AuthorizationPolicy', 'security.istio.io/v1')}spec:
  rules:
  - from: [{ source: { serviceAccounts: ["a/b/c"], namespaces: [default] } }]
    to: [{ operation: { paths: ["/api/{**}/{*}"] } }]`;
  same(run('AuthorizationPolicy', bad), [
    "IST0106 Schema validation error: spec.rules[0].from[0].source.serviceAccounts: \"a/b/c\" must be 'serviceAccount' or 'namespace/serviceAccount'",
    'IST0106 Schema validation error: spec.rules[0].from[0].source: serviceAccounts cannot be combined with namespaces or principals',
    'IST0106 Schema validation error: spec.rules[0].to[0].operation.paths[0]: path template "/api/{**}/{*}" has an operator after {**}, which must be last',
  ]);
});

test('the istio.io/dry-run annotation is only for ALLOW/DENY AuthorizationPolicies', () => {
  const yaml = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: x, namespace: default, annotations: { istio.io/dry-run: "true" } }\nspec: { host: reviews }`;
  same(run('DestinationRule', yaml), [
    'IST0106 Schema validation error: metadata.annotations.istio.io/dry-run: annotation istio.io/dry-run is supported only on AuthorizationPolicy; remove it',
  ]);
  const ap = `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: x, namespace: default, annotations: { istio.io/dry-run: "true" } }\nspec: { action: DENY, rules: [{ to: [{ operation: { ports: ["8080"] } }] }] }`;
  same(run('AuthorizationPolicy', ap), []);
});

// ---------------------------------------------------------------------- RequestAuthentication

test('RequestAuthentication: issuer or JWKS URI required, JWKS URI must be http(s)', () => {
  const ok = `${meta('RequestAuthentication', 'security.istio.io/v1')}spec:\n  jwtRules: [{ issuer: "https://accounts.example.com", jwksUri: "https://accounts.example.com/jwks.json" }]`;
  same(run('RequestAuthentication', ok), []);
  const bad = `${meta('RequestAuthentication', 'security.istio.io/v1')}spec:\n  jwtRules:\n  - { jwksUri: "ftp://example.com/jwks", jwks: "{not json", fromHeaders: [{ prefix: "Bearer " }] }\n  - { audiences: [a] }`;
  same(run('RequestAuthentication', bad).map((m) => m.replace(/jwks cannot be parsed: .*/, 'jwks cannot be parsed')), [
    'IST0106 Schema validation error: spec.jwtRules[0].fromHeaders[0]: header location needs a name',
    'IST0106 Schema validation error: spec.jwtRules[1]: a JWT rule needs an issuer or a jwksUri',
    'IST0106 Schema validation error: spec.jwtRules[0].jwks: jwks cannot be parsed',
    'IST0106 Schema validation error: spec.jwtRules[0].jwksUri: jwksUri scheme "ftp" is not supported (use http or https)',
  ]);
});

// ---------------------------------------------------------------------------------- Telemetry

test('Telemetry: providers named, sampling in range, selector xor targetRef', () => {
  const ok = `${meta('Telemetry', 'telemetry.istio.io/v1')}spec:\n  tracing: [{ providers: [{ name: zipkin }], randomSamplingPercentage: 10 }]\n  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: "response.code >= 400" } }]`;
  same(run('Telemetry', ok), []);
  const bad = `${meta('Telemetry', 'telemetry.istio.io/v1')}spec:
  selector: { matchLabels: { app: x } }
  targetRefs: [{ kind: Service, name: x }]
  tracing: [{ providers: [{ name: "" }], randomSamplingPercentage: 150 }]
  accessLogging: [{ filter: { expression: "response.code >= (400" } }]`;
  same(run('Telemetry', bad), [
    "IST0106 Schema validation error: spec.accessLogging[0].filter.expression: filter must be a valid CEL expression: missing ')'",
    'IST0106 Schema validation error: spec.tracing[0].providers[0]: provider name must not be empty',
    'IST0106 Schema validation error: spec.tracing[0].randomSamplingPercentage: randomSamplingPercentage must be between 0 and 100',
    'IST0106 Schema validation error: spec: only one of selector, targetRef or targetRefs may be set',
  ]);
});

// --------------------------------------------------------------------------------- WasmPlugin

test('WasmPlugin: url required with a supported scheme, sha256 format', () => {
  const ok = `${meta('WasmPlugin', 'extensions.istio.io/v1alpha1')}spec: { url: "oci://ghcr.io/example/plugin:1.0", selector: { matchLabels: { app: x } } }`;
  same(run('WasmPlugin', ok), []);
  const bad = `${meta('WasmPlugin', 'extensions.istio.io/v1alpha1')}spec: { url: "ftp://example.com/p.wasm", sha256: "ABC" }\n---\n${meta('WasmPlugin', 'extensions.istio.io/v1alpha1', 'y')}spec: {}`;
  same(run('WasmPlugin', bad), [
    'IST0106 Schema validation error: spec.sha256: sha256 must be 64 characters long',
    'IST0106 Schema validation error: spec.url: url must be set',
    'IST0106 Schema validation error: spec.url: url scheme "ftp" is not supported (use oci, http, https or file)',
  ]);
});

// ----------------------------------------------------------------------------------- helpers

test('durations follow Go syntax, exactly to the nanosecond', () => {
  assert.equal(parseDuration('1.5s'), 1_500_000_000n);
  assert.equal(parseDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseDuration('100ms'), 100_000_000n);
  assert.equal(parseDuration('0'), 0n);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(parseDuration('5 seconds'), undefined);
});

test('regexes: RE2 syntax is accepted, JS-only and broken syntax is not', () => {
  assert.equal(checkRegex('^/api/(?P<version>v[0-9]+)/.*$'), undefined);
  assert.equal(checkRegex('(?i)^/API'), undefined);
  assert.match(checkRegex('(unclosed') ?? '', /invalid regex/);
  assert.match(checkRegex('(a)\\1') ?? '', /backreference/);
});
