import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks, mergeMesh, type MeshConfig } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { origin } from '../../../src/config/analysis/message.js';
import { caCertificateAnalyzer } from '../../../src/config/analysis/analyzers/destinationrule/ca-certificate.js';
import { subsetSelectPodAnalyzer } from '../../../src/config/analysis/analyzers/destinationrule/subset-select-pod.js';
import { protocolAddressesAnalyzer } from '../../../src/config/analysis/analyzers/serviceentry/protocol-addresses.js';
import { conflictingProtocolAnalyzer } from '../../../src/config/analysis/analyzers/serviceentry/conflicting-protocol.js';
import { envoyPatchAnalyzer } from '../../../src/config/analysis/analyzers/envoyfilter/envoy-patch.js';

/** `CODE Kind ns/name` for every message the analyzer reports on the YAML, sorted. */
function run(analyzer: Analyzer, yaml: string, meshConfig: MeshConfig = defaultMeshConfig()): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const { messages } = runAnalyzers(resources, [analyzer], { meshConfig, meshNetworks: defaultMeshNetworks() });
  return messages.map((m) => `${m.code} ${origin(m)}`).sort();
}

const dr = (name: string, tls: string, extra = '') => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: db.prod.svc.cluster.local
  trafficPolicy:
${tls}
${extra}
---`;

test('CaCertificateAnalyzer flags SIMPLE/MUTUAL TLS without caCertificates, rule-wide and per port', () => {
  const yaml = dr('no-ca', '    tls: { mode: SIMPLE }\n    portLevelSettings:\n    - port: { number: 443 }\n      tls: { mode: MUTUAL }');
  assert.deepEqual(run(caCertificateAnalyzer, yaml), ['IST0128 DestinationRule default/no-ca', 'IST0129 DestinationRule default/no-ca']);
});

test('CaCertificateAnalyzer accepts caCertificates, ISTIO_MUTUAL, and credentialName with a workload selector', () => {
  const yaml = [
    dr('with-ca', '    tls: { mode: MUTUAL, caCertificates: /etc/certs/root.pem }'),
    dr('istio-mtls', '    tls: { mode: ISTIO_MUTUAL }'),
    dr('cred-selector', '    tls: { mode: SIMPLE, credentialName: db-cred }', '  workloadSelector: { matchLabels: { app: db } }'),
  ].join('\n');
  assert.deepEqual(run(caCertificateAnalyzer, yaml), []);
  // Without a workload selector the credentialName does not count.
  assert.deepEqual(run(caCertificateAnalyzer, dr('cred', '    tls: { mode: SIMPLE, credentialName: db-cred }')), ['IST0128 DestinationRule default/cred']);
});

const httpbin = `
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: default }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: httpbin-1, namespace: default, labels: { app: httpbin, version: v1 } }
spec: { nodeName: node-a, containers: [{ name: httpbin, image: httpbin }] }
---
apiVersion: v1
kind: Node
metadata: { name: node-a, labels: { topology.kubernetes.io/region: eu-west-1, topology.kubernetes.io/zone: '' } }
---`;

test('SubsetSelectPodAnalyzer flags unknown hosts and subsets that select no pod', () => {
  const yaml = `${httpbin}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ghost, namespace: default }
spec: { host: ghost.default.svc.cluster.local }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: default }
spec:
  host: httpbin
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v9, labels: { version: v9 } }
  - { name: empty-zone, labels: { topology.kubernetes.io/zone: '' } }
`;
  assert.deepEqual(run(subsetSelectPodAnalyzer, yaml), [
    'IST0173 DestinationRule default/httpbin',
    'IST0173 DestinationRule default/httpbin',
    'IST0174 DestinationRule default/ghost',
  ]);
});

test('SubsetSelectPodAnalyzer matches node locality labels and wildcard ServiceEntry hosts', () => {
  const yaml = `${httpbin}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: default }
spec:
  host: httpbin.default.svc.cluster.local
  subsets:
  - { name: eu, labels: { topology.kubernetes.io/region: eu-west-1, version: v1 } }
  - { name: on-node, labels: { kubernetes.io/hostname: node-a } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external, namespace: default }
spec: { hosts: ['*.example.com'], ports: [{ number: 443, name: https, protocol: HTTPS }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: default }
spec: { host: api.example.com }
`;
  assert.deepEqual(run(subsetSelectPodAnalyzer, yaml), []);
});

const se = (name: string, ports: string, extra = '') => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.example.com]
  ports: ${ports}
${extra}
---`;

test('serviceentry.Analyzer wants addresses for TCP and protocol-less ports', () => {
  const yaml = [
    se('tcp', '[{ number: 22, name: ssh, protocol: tcp }]'),
    se('bare', '[{ number: 5432, name: pg }]'),
    se('https', '[{ number: 443, name: https, protocol: HTTPS }]'),
    se('with-address', '[{ number: 22, name: ssh, protocol: TCP }]', '  addresses: [10.0.0.1]'),
  ].join('\n');
  assert.deepEqual(run(protocolAddressesAnalyzer, yaml), ['IST0134 ServiceEntry default/bare', 'IST0134 ServiceEntry default/tcp']);
});

test('serviceentry.Analyzer is quiet when addresses are allocated (status or DNS auto-allocation)', () => {
  const allocated = se('tcp', '[{ number: 22, name: ssh, protocol: TCP }]', 'status: { addresses: [{ host: tcp.example.com, value: 240.240.0.1 }] }');
  assert.deepEqual(run(protocolAddressesAnalyzer, allocated), []);
  const mesh = mergeMesh(defaultMeshConfig(), { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } });
  assert.deepEqual(run(protocolAddressesAnalyzer, se('tcp', '[{ number: 22, name: ssh, protocol: TCP }]'), mesh), []);
  // Auto-allocation alone, without DNS capture, does not give the entry an address.
  const noCapture = mergeMesh(defaultMeshConfig(), { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } });
  assert.deepEqual(run(protocolAddressesAnalyzer, se('tcp', '[{ number: 22, name: ssh, protocol: TCP }]'), noCapture), ['IST0134 ServiceEntry default/tcp']);
});

const seFor = (name: string, ns: string, protocol: string, exportTo = '') => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [example.com]
  ports: [{ number: 8080, name: p-${name}, protocol: ${protocol} }]
  ${exportTo}
---`;

test('ConflictingServiceEntryProtocolAnalyzer flags entries that give one host and port different protocols', () => {
  const yaml = seFor('a', 'default', 'HTTP') + seFor('b', 'default', 'HTTPS') + seFor('c', 'default', 'http');
  assert.deepEqual(run(conflictingProtocolAnalyzer, yaml), [
    'IST0177 ServiceEntry default/a',
    'IST0177 ServiceEntry default/b',
    'IST0177 ServiceEntry default/c',
  ]);
  // A namespace-local entry conflicts with one exported to all namespaces.
  const mixed = seFor('local', 'ns1', 'HTTP', 'exportTo: ["."]') + seFor('global', 'ns2', 'TCP');
  assert.deepEqual(run(conflictingProtocolAnalyzer, mixed), ['IST0177 ServiceEntry ns1/local', 'IST0177 ServiceEntry ns2/global']);
});

test('ConflictingServiceEntryProtocolAnalyzer ignores same protocols and entries no namespace sees together', () => {
  assert.deepEqual(run(conflictingProtocolAnalyzer, seFor('a', 'default', 'HTTPS') + seFor('b', 'default', 'https')), []);
  const apart = seFor('a', 'ns1', 'HTTP', 'exportTo: ["."]') + seFor('b', 'ns2', 'HTTPS', 'exportTo: ["."]');
  assert.deepEqual(run(conflictingProtocolAnalyzer, apart), []);
});

const ef = (name: string, patches: string, priority = '') => `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: ${name}, namespace: bookinfo }
spec:
  ${priority}
  configPatches:
${patches}
---`;

test('EnvoyPatchAnalyzer flags relative operations without priority and ignored operations', () => {
  const yaml = [
    ef('relative', `  - applyTo: HTTP_FILTER
    match: { proxy: { proxyVersion: '^1\\.2.*' } }
    patch: { operation: INSERT_BEFORE, value: { name: envoy.lua } }
  - applyTo: HTTP_FILTER
    patch: { operation: REPLACE, value: { name: envoy.lua } }`),
    ef('add-route', `  - applyTo: ROUTE_CONFIGURATION
    patch: { operation: ADD, value: { name: x } }`),
    ef('remove-route', `  - applyTo: HTTP_ROUTE
    patch: { operation: REMOVE }`),
    ef('replace-cluster', `  - applyTo: CLUSTER
    patch: { operation: REPLACE, value: { name: c } }`, 'priority: 5'),
  ].join('\n');
  assert.deepEqual(run(envoyPatchAnalyzer, yaml), [
    'IST0151 EnvoyFilter bookinfo/relative',
    'IST0152 EnvoyFilter bookinfo/replace-cluster',
    'IST0153 EnvoyFilter bookinfo/add-route',
    'IST0154 EnvoyFilter bookinfo/remove-route',
    'IST0155 EnvoyFilter bookinfo/relative',
  ]);
});

test('EnvoyPatchAnalyzer accepts absolute operations, priorities, MERGE and REPLACE on a virtual host', () => {
  const yaml = [
    ef('first', `  - applyTo: HTTP_FILTER
    patch: { operation: INSERT_FIRST, value: { name: envoy.lua } }
  - applyTo: CLUSTER
    patch: { operation: ADD, value: { name: c } }
  - applyTo: FILTER_CHAIN
    patch: { operation: MERGE, value: { transportSocket: { name: tls } } }`),
    ef('prioritised', `  - applyTo: HTTP_FILTER
    patch: { operation: INSERT_AFTER, value: { name: envoy.lua } }
  - applyTo: VIRTUAL_HOST
    patch: { operation: REPLACE, value: { name: vh } }`, 'priority: 10'),
  ].join('\n');
  assert.deepEqual(run(envoyPatchAnalyzer, yaml), []);
});
