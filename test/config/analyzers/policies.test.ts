import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks, mergeMesh, type MeshConfig, type MeshNetworks } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { origin } from '../../../src/config/analysis/message.js';
import { selectorAnalyzer } from '../../../src/config/analysis/analyzers/sidecar/selector.js';
import { providerAnalyzer } from '../../../src/config/analysis/analyzers/telemetry/provider.js';
import { telemetrySelectorAnalyzer } from '../../../src/config/analysis/analyzers/telemetry/selector.js';
import { defaultSelectorAnalyzer } from '../../../src/config/analysis/analyzers/telemetry/default-selector.js';
import { lightstepAnalyzer } from '../../../src/config/analysis/analyzers/telemetry/lightstep.js';
import { meshNetworksAnalyzer } from '../../../src/config/analysis/analyzers/meshnetworks/mesh-networks.js';
import { blockedCidrsAnalyzer } from '../../../src/config/analysis/analyzers/authn/blocked-cidrs.js';
import { authorizationPoliciesAnalyzer } from '../../../src/config/analysis/analyzers/authz/authorization-policies.js';

interface Options {
  meshConfig?: MeshConfig;
  meshNetworks?: MeshNetworks;
  env?: Record<string, string>;
}

/** `CODE origin` of each message, sorted. */
function run(analyzer: Analyzer, yaml: string, opts: Options = {}): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const { messages } = runAnalyzers(resources, [analyzer], {
    meshConfig: opts.meshConfig ?? defaultMeshConfig(),
    meshNetworks: opts.meshNetworks ?? defaultMeshNetworks(),
    env: opts.env,
  });
  return messages.map((m) => `${m.code} ${origin(m)}`).sort();
}

const pod = (name: string, ns: string, labels: Record<string, string>, annotations: Record<string, string> = {}) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${JSON.stringify(labels)}, annotations: ${JSON.stringify(annotations)}}
spec: {containers: [{name: app, image: app}, {name: istio-proxy, image: proxyv2}]}
---`;

const sidecar = (name: string, ns: string, labels?: Record<string, string>) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${ns}}
spec: ${labels ? `{workloadSelector: {labels: ${JSON.stringify(labels)}}}` : '{}'}
---`;

test('sidecar.SelectorAnalyzer flags unmatched selectors and pods selected twice', () => {
  const yaml = pod('web', 'shop', { app: 'web' }) + sidecar('a', 'shop', { app: 'web' }) + sidecar('b', 'shop', { app: 'web' }) + sidecar('c', 'shop', { app: 'nope' });
  assert.deepEqual(run(selectorAnalyzer, yaml), ['IST0101 Sidecar shop/c', 'IST0110 Sidecar shop/a', 'IST0110 Sidecar shop/b']);
});

test('sidecar.SelectorAnalyzer flags two namespace-wide Sidecars, and ambient targets as ineffective', () => {
  const ambientNs = '\napiVersion: v1\nkind: Namespace\nmetadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}\n---';
  const yaml = sidecar('x', 'shop') + sidecar('y', 'shop') + ambientNs + sidecar('z', 'amb');
  assert.deepEqual(run(selectorAnalyzer, yaml), ['IST0111 Sidecar shop/x', 'IST0111 Sidecar shop/y', 'IST0167 Sidecar amb/z']);
  const ambientPod = pod('w', 'shop', { app: 'w' }, { 'ambient.istio.io/redirection': 'enabled' });
  assert.deepEqual(run(selectorAnalyzer, ambientPod + sidecar('p', 'shop', { app: 'w' })), ['IST0167 Sidecar shop/p']);
});

test('sidecar.SelectorAnalyzer accepts one Sidecar per workload', () => {
  const yaml = pod('web', 'shop', { app: 'web' }) + sidecar('a', 'shop', { app: 'web' }) + sidecar('ns-wide', 'shop');
  assert.deepEqual(run(selectorAnalyzer, yaml), []);
});

const telemetry = (name: string, ns: string, spec: string) => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}
---`;

test('telemetry.SelectorAnalyzer flags unmatched and overlapping selectors', () => {
  const yaml =
    pod('web', 'shop', { app: 'web', tier: 'front' }) +
    telemetry('a', 'shop', '{selector: {matchLabels: {app: web}}}') +
    telemetry('b', 'shop', '{selector: {matchLabels: {tier: front}}}') +
    telemetry('c', 'shop', '{selector: {matchLabels: {app: gone}}}');
  assert.deepEqual(run(telemetrySelectorAnalyzer, yaml), ['IST0101 Telemetry shop/c', 'IST0159 Telemetry shop/a', 'IST0159 Telemetry shop/b']);
  assert.deepEqual(run(telemetrySelectorAnalyzer, pod('web', 'shop', { app: 'web' }) + telemetry('a', 'shop', '{selector: {matchLabels: {app: web}}}')), []);
});

test('telemetry.DefaultSelectorAnalyzer flags two selector-less Telemetries in one namespace', () => {
  const two = telemetry('a', 'shop', '{}') + telemetry('b', 'shop', '{}');
  assert.deepEqual(run(defaultSelectorAnalyzer, two), ['IST0160 Telemetry shop/a', 'IST0160 Telemetry shop/b']);
  const fine = telemetry('a', 'shop', '{}') + telemetry('b', 'shop', '{selector: {matchLabels: {app: web}}}') + telemetry('c', 'other', '{}');
  assert.deepEqual(run(defaultSelectorAnalyzer, fine), []);
});

test('telemetry.ProviderAnalyzer flags access logging without providers unless disabled or defaulted', () => {
  const yaml = telemetry('t', 'shop', '{accessLogging: [{filter: {expression: "response.code >= 400"}}]}');
  assert.deepEqual(run(providerAnalyzer, yaml), ['IST0157 Telemetry shop/t']);
  assert.deepEqual(run(providerAnalyzer, telemetry('t', 'shop', '{accessLogging: [{disabled: true}, {providers: [{name: envoy}]}]}')), []);
  const withDefault = mergeMesh(defaultMeshConfig(), { defaultProviders: { accessLogging: ['envoy'] } });
  assert.deepEqual(run(providerAnalyzer, yaml, { meshConfig: withDefault }), []);
});

test('telemetry.LightstepAnalyzer flags tracing through a Lightstep provider', () => {
  const meshConfig = mergeMesh(defaultMeshConfig(), { extensionProviders: [{ name: 'ls', lightstep: { service: 'ls.svc', port: 443 } }] });
  assert.deepEqual(run(lightstepAnalyzer, telemetry('t', 'shop', '{tracing: [{providers: [{name: ls}]}]}'), { meshConfig }), ['IST0002 Telemetry shop/t']);
  assert.deepEqual(run(lightstepAnalyzer, telemetry('t', 'shop', '{tracing: [{providers: [{name: otel}]}]}'), { meshConfig }), []);
});

test('meshnetworks.MeshNetworksAnalyzer flags unknown registries, knowing remote-cluster secrets', () => {
  const meshNetworks = { networks: { n1: { endpoints: [{ fromRegistry: 'Kubernetes' }, { fromRegistry: 'remote' }, { fromCidr: '10.0.0.0/8' }] } } };
  assert.deepEqual(run(meshNetworksAnalyzer, '', { meshNetworks }), ['IST0126 MeshNetworks istio-system/meshnetworks']);
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: remote, namespace: istio-system, labels: {istio/multiCluster: "true"}}\ndata: {remote: e30=}\n';
  assert.deepEqual(run(meshNetworksAnalyzer, secret, { meshNetworks }), []);
});

const istiod = (env: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system, labels: {app: istiod}}
spec:
  template:
    spec:
      containers: [{name: discovery, image: pilot, env: ${env}}]
---`;
const requestAuthn = '\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: shop}\nspec: {jwtRules: [{issuer: x, jwksUri: "https://x/jwks"}]}\n---';

test('authn.BlockedCIDRsAnalyzer flags istiod without BLOCKED_CIDRS_IN_JWKS_URIS when JWKS are fetched', () => {
  assert.deepEqual(run(blockedCidrsAnalyzer, istiod('[]') + requestAuthn), ['IST0175 Deployment istio-system/istiod']);
  assert.deepEqual(run(blockedCidrsAnalyzer, istiod('[{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: "10.0.0.0/8"}]') + requestAuthn), []);
  assert.deepEqual(run(blockedCidrsAnalyzer, istiod('[]')), []);
  assert.deepEqual(run(blockedCidrsAnalyzer, istiod('[]') + requestAuthn, { env: { BLOCKED_CIDRS_IN_JWKS_URIS: '10.0.0.0/8' } }), []);
});

const policy = (name: string, ns: string, spec: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}
---`;

test('auth.AuthorizationPoliciesAnalyzer flags policies with no workloads and unknown source namespaces', () => {
  const yaml =
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---' +
    pod('web', 'shop', { app: 'web' }) +
    policy('ok', 'shop', '{selector: {matchLabels: {app: web}}, rules: [{from: [{source: {namespaces: ["sh*"]}}]}]}') +
    policy('no-pods', 'shop', '{selector: {matchLabels: {app: gone}}}') +
    policy('empty-ns', 'empty', '{}') +
    policy('bad-ns', 'shop', '{rules: [{from: [{source: {namespaces: ["nowhere"], notNamespaces: ["*-x"]}}]}]}') +
    policy('meshwide', 'istio-system', '{}');
  assert.deepEqual(run(authorizationPoliciesAnalyzer, yaml), [
    'IST0101 AuthorizationPolicy shop/bad-ns',
    'IST0101 AuthorizationPolicy shop/bad-ns',
    'IST0127 AuthorizationPolicy empty/empty-ns',
    'IST0127 AuthorizationPolicy shop/no-pods',
  ]);
});

test('auth.AuthorizationPoliciesAnalyzer counts ambient pods and ignores pods outside the mesh', () => {
  const outside = 'apiVersion: v1\nkind: Pod\nmetadata: {name: plain, namespace: shop, labels: {app: web}}\nspec: {containers: [{name: app, image: app}]}\n---';
  assert.deepEqual(run(authorizationPoliciesAnalyzer, outside + policy('p', 'shop', '{selector: {matchLabels: {app: web}}}')), ['IST0127 AuthorizationPolicy shop/p']);
  const ambient = pod('a', 'amb', { app: 'a' }, { 'ambient.istio.io/redirection': 'enabled' }).replace(', {name: istio-proxy, image: proxyv2}', '');
  assert.deepEqual(run(authorizationPoliciesAnalyzer, ambient + policy('p', 'amb', '{selector: {matchLabels: {app: a}}}')), []);
});
