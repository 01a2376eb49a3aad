import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REVIEWS, out, translate } from './fixtures.js';

// Istio's Telemetry API and the mesh config's telemetry fields, translated into each proxy's
// `telemetry` settings with istiod's precedence (root namespace, namespace, workload selector),
// plus the endpoint and inbound cluster metadata the sidecar's metrics labels come from.

const telemetry = (name: string, namespace: string, spec: string) => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ${name}, namespace: ${namespace}}
spec:
${spec.replace(/^/gm, '  ')}
`;
const docs = (...d: string[]) => d.join('\n---\n');
const NS = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n';

test("defaults: Istio's standard metrics on, access logging off, tracing at 1%", () => {
  const { snapshot } = translate('');
  assert.deepEqual(snapshot.telemetry, { metrics: { enabled: true }, accessLog: { enabled: false, format: 'text' }, tracing: { samplingPercent: 1 } });
});

test("metadata for metrics labels: endpoints name their workload and namespace; inbound clusters the service they serve", () => {
  const { snapshot } = translate('', 'reviews-v2-0');
  const eps = snapshot.endpoints.find((e) => e.clusterName === out(9080, '', REVIEWS))!.endpoints;
  assert.deepEqual(eps.map((e) => [e.instance, e.workload, e.namespace]), [['reviews-v1-0', 'reviews-v1', 'bookinfo'], ['reviews-v2-0', 'reviews-v2', 'bookinfo'], ['reviews-v3-0', 'reviews-v3', 'bookinfo']]);
  assert.equal(snapshot.clusters.find((c) => c.name === 'inbound|9080||')?.service, REVIEWS);
});

test('access logging: mesh-wide on, a namespace turns it off, a workload selector turns it back on', () => {
  const config = docs(
    NS,
    telemetry('mesh-default', 'istio-system', 'accessLogging: [{providers: [{name: envoy}]}]'),
    telemetry('quiet', 'bookinfo', 'accessLogging: [{disabled: true}]'),
    telemetry('reviews-logs', 'bookinfo', 'selector: {matchLabels: {app: reviews}}\naccessLogging: [{providers: [{name: envoy}], disabled: false}]'),
  );
  assert.deepEqual(translate(config, 'productpage-v1-0').snapshot.telemetry?.accessLog, { enabled: false, format: 'text' });
  assert.deepEqual(translate(config, 'reviews-v1-0').snapshot.telemetry?.accessLog, { enabled: true, format: 'text' });
  // Without the namespace's Telemetry, the mesh-wide one holds everywhere.
  assert.deepEqual(translate(docs(NS, telemetry('mesh-default', 'istio-system', 'accessLogging: [{providers: [{name: envoy}]}]')), 'details-v1-0').snapshot.telemetry?.accessLog, { enabled: true, format: 'text' });
});

test('access logging per side (match.mode SERVER: inbound listeners only), JSON through a provider with labels', () => {
  const config = docs(
    NS,
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    extensionProviders:\n    - name: json-log\n      envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {}}}\n',
    telemetry('server-logs', 'bookinfo', 'accessLogging: [{providers: [{name: json-log}], match: {mode: SERVER}}]'),
  );
  assert.deepEqual(translate(config).snapshot.telemetry?.accessLog, { enabled: true, format: 'json', directions: ['inbound'] });
});

test("the mesh config's legacy accessLogFile and accessLogEncoding apply when no Telemetry speaks of access logs", () => {
  const mesh = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    accessLogFile: /dev/stdout\n    accessLogEncoding: JSON\n';
  assert.deepEqual(translate(docs(NS, mesh)).snapshot.telemetry?.accessLog, { enabled: true, format: 'json' });
  // A Telemetry that disables access logging wins over the legacy setting.
  const off = telemetry('off', 'bookinfo', 'accessLogging: [{providers: [{name: envoy}], disabled: true}]');
  assert.deepEqual(translate(docs(NS, mesh, off)).snapshot.telemetry?.accessLog, { enabled: false, format: 'text' });
});

test('metrics: ALL_METRICS disabled mesh-wide; a namespace override enables them again; single metrics per mode', () => {
  const root = telemetry('no-metrics', 'istio-system', 'metrics: [{providers: [{name: prometheus}], overrides: [{match: {metric: ALL_METRICS}, disabled: true}]}]');
  assert.deepEqual(translate(docs(NS, root)).snapshot.telemetry?.metrics, { enabled: false });
  const ns = telemetry('some-metrics', 'bookinfo', 'metrics: [{overrides: [{match: {metric: REQUEST_SIZE, mode: CLIENT}, disabled: true}, {match: {metric: TCP_SENT_BYTES}, disabled: true}]}]');
  assert.deepEqual(translate(docs(NS, root, ns)).snapshot.telemetry?.metrics, {
    enabled: true,
    disabled: { inbound: ['TCP_SENT_BYTES'], outbound: ['REQUEST_SIZE', 'TCP_SENT_BYTES'] },
  });
  // A level naming only a provider the sidecar does not have turns the prometheus exporter off.
  const sd = telemetry('sd-only', 'bookinfo', 'metrics: [{providers: [{name: stackdriver}]}]');
  const { snapshot, notes } = translate(docs(NS, sd));
  assert.deepEqual(snapshot.telemetry?.metrics, { enabled: false });
  assert.ok(notes.some((n) => n.includes('metrics provider stackdriver (stackdriver) is not implemented')), notes.join('\n'));
});

test('tracing: the most specific randomSamplingPercentage wins; else the mesh default; enableTracing false samples nothing', () => {
  const root = telemetry('mesh-tracing', 'istio-system', 'tracing: [{randomSamplingPercentage: 10}]');
  const ns = telemetry('ns-tracing', 'bookinfo', 'tracing: [{randomSamplingPercentage: 50}]');
  assert.equal(translate(docs(NS, root)).snapshot.telemetry?.tracing?.samplingPercent, 10);
  assert.equal(translate(docs(NS, root, ns)).snapshot.telemetry?.tracing?.samplingPercent, 50);
  const mesh = (body: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n${body.replace(/^/gm, '    ')}\n`;
  assert.equal(translate(docs(NS, mesh('defaultConfig:\n  tracing: {sampling: 5}'))).snapshot.telemetry?.tracing?.samplingPercent, 5);
  assert.equal(translate(docs(NS, mesh('enableTracing: false'))).snapshot.telemetry?.tracing?.samplingPercent, 0);
});

test('what the local mesh does not implement is reported as notes, never silently ignored', () => {
  const config = docs(
    NS,
    telemetry('a-wide', 'bookinfo', 'accessLogging: [{providers: [{name: envoy}], filter: {expression: "response.code >= 400"}}]\nmetrics: [{overrides: [{match: {metric: REQUEST_COUNT}, tagOverrides: {request_host: {value: "request.host"}}}]}]'),
    telemetry('b-wide', 'bookinfo', 'tracing: [{randomSamplingPercentage: 20}]'),
    telemetry('gateway', 'bookinfo', 'targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: ingress}]\naccessLogging: [{providers: [{name: envoy}]}]'),
    telemetry('otel', 'bookinfo', 'selector: {matchLabels: {app: productpage}}\naccessLogging: [{providers: [{name: otel-als}]}]\ntracing: [{customTags: {team: {literal: {value: shop}}}}]'),
  );
  const { snapshot, notes: forProductpage } = translate(config);
  // details takes the namespace-wide a-wide (its CEL filter is in force there); productpage its own Telemetry.
  const notes = [...forProductpage, ...translate(config, 'details-v1-0').notes];
  const has = (text: string) => assert.ok(notes.some((n) => n.includes(text)), `no note with "${text}":\n${notes.join('\n')}`);
  has('Telemetry bookinfo/b-wide: namespace bookinfo has another Telemetry without selector (Telemetry bookinfo/a-wide)');
  has('access log filters (CEL) are not implemented');
  has('tagOverrides are not implemented');
  has('Telemetry bookinfo/gateway: targetRefs attach a Telemetry to gateways and waypoints');
  has('access log provider otel-als is not defined');
  has('customTags are not implemented');
  // The workload's Telemetry names an unknown provider: Istio configures no access log then.
  assert.deepEqual(snapshot.telemetry?.accessLog, { enabled: false, format: 'text' });
  // b-wide was ignored: the sampling stays at Istio's default.
  assert.equal(snapshot.telemetry?.tracing?.samplingPercent, 1);
  assert.equal(notes.some((n) => n.includes('Telemetry') && n.includes('stored but not implemented')), false);
});
