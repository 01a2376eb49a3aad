import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { origin } from '../../../src/config/analysis/message.js';
import { ingressGatewayPortAnalyzer } from '../../../src/config/analysis/analyzers/gateway/ingress-gateway-port.js';
import { certificateCurrentlyValid, secretAnalyzer } from '../../../src/config/analysis/analyzers/gateway/secret.js';
import { conflictingGatewayAnalyzer } from '../../../src/config/analysis/analyzers/gateway/conflicting-gateway.js';
import { certificateAnalyzer } from '../../../src/config/analysis/analyzers/gateway/certificate.js';
import { k8sgatewaySelectorAnalyzer } from '../../../src/config/analysis/analyzers/k8sgateway/selector.js';
import { crdVersionAnalyzer } from '../../../src/config/analysis/analyzers/k8sgateway/crd-version.js';
import { conditionAnalyzer } from '../../../src/config/analysis/analyzers/conditions/condition.js';

/** `CODE origin` of each message, sorted. */
function run(analyzer: Analyzer, yaml: string, env?: Record<string, string>): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const { messages } = runAnalyzers(resources, [analyzer], { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks(), env });
  return messages.map((m) => `${m.code} ${origin(m)}`).sort();
}

const ingressPod = `
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
---`;

const ingressService = `
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080, protocol: TCP}
  - {name: https, port: 443}
---`;

function gateway(name: string, opts: { ns?: string; selector?: Record<string, string>; port?: number; hosts?: string[]; tls?: object } = {}): string {
  return `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${opts.ns ?? 'default'}}
spec:
  selector: ${JSON.stringify(opts.selector ?? { istio: 'ingressgateway' })}
  servers:
  - port: {number: ${opts.port ?? 80}, name: p, protocol: HTTP}
    hosts: ${JSON.stringify(opts.hosts ?? ['*'])}
${opts.tls ? `    tls: ${JSON.stringify(opts.tls)}` : ''}
---`;
}

// Test certificates (self-signed, no secret material needed: the analyzer reads only the cert).
const CERT_2000_2100 =
  'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJGVENCdkFJQkFUQUtCZ2dxaGtqT1BRUURBakFXTVJRd0VnWURWUVFEREF0bGVHRnRjR3hsTG1OdmJUQWcKRncwd01EQXhNREV3TURBd01EQmFHQTh5TVRBd01ERXdNVEF3TURBd01Gb3dGakVVTUJJR0ExVUVBd3dMWlhoaApiWEJzWlM1amIyMHdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBUzU0MENUVnByR1pldzQzbTdzCmpiYmtoTVR1UjcrY0pPMEhPVmw0S0lYa0J6VUx2MjIyUytmblZJK29oZVlKZGxiWnFvbXZ3UVBFU0VlOTBhZkQKVmxHVU1Bb0dDQ3FHU000OUJBTUNBMGdBTUVVQ0lIRDk0ZC9uNndyUUpNRjk2SGFXOFZRVGtGbTY5RmhkWEpWNgp4QTJxbElwQUFpRUExc1ZOTVdVcFZRd1BFMkxFZ1pFV0FKd1NrbCtvcmNvcGRxRjZyQU9PYzJBPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==';
const CERT_2000_2001 =
  'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJFakNCdWdJQkFqQUtCZ2dxaGtqT1BRUURBakFXTVJRd0VnWURWUVFEREF0bGVHRnRjR3hsTG1OdmJUQWUKRncwd01EQXhNREV3TURBd01EQmFGdzB3TVRBeE1ERXdNREF3TURCYU1CWXhGREFTQmdOVkJBTU1DMlY0WVcxdwpiR1V1WTI5dE1Ga3dFd1lIS29aSXpqMENBUVlJS29aSXpqMERBUWNEUWdBRXVlTkFrMWFheG1Yc09ONXU3STIyCjVJVEU3a2UvbkNUdEJ6bFplQ2lGNUFjMUM3OXR0a3ZuNTFTUHFJWG1DWFpXMmFxSnI4RUR4RWhIdmRHbncxWlIKbERBS0JnZ3Foa2pPUFFRREFnTkhBREJFQWlCdngrT1l6SGNCY3gzU2NKWmJoOW4vaFYyNnRueUtBUnRtVE0xSwpaUzJCeEFJZ0ZBRHlDbXhMd1Qrc1dWWitNdDRuRERTOXllTDY3VzYyMEtHRzFNN1JueDA9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K';
const KEY = Buffer.from('placeholder key').toString('base64');

const secret = (name: string, data: Record<string, string>) => `
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: istio-system}
type: kubernetes.io/tls
data: ${JSON.stringify(data)}
---`;

// --- gateway.IngressGatewayPortAnalyzer ---

test('IngressGatewayPort: ports exposed by the service (port or targetPort) pass', () => {
  const yaml = ingressPod + ingressService + gateway('a', { port: 80 }) + gateway('b', { port: 8080 }) + gateway('c', { port: 443 });
  assert.deepEqual(run(ingressGatewayPortAnalyzer, yaml), []);
});

test('IngressGatewayPort: unexposed port and selector without pods are flagged', () => {
  const yaml = ingressPod + ingressService + gateway('bad-port', { port: 9999 }) + gateway('no-pods', { selector: { app: 'nothing' } });
  assert.deepEqual(run(ingressGatewayPortAnalyzer, yaml), ['IST0101 Gateway default/no-pods', 'IST0162 Gateway default/bad-port']);
});

// --- gateway.SecretAnalyzer ---

test('SecretAnalyzer: a valid secret in the workload namespace passes', () => {
  const yaml = ingressPod + secret('good', { 'tls.crt': CERT_2000_2100, 'tls.key': KEY }) + gateway('gw', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'good' } });
  assert.deepEqual(run(secretAnalyzer, yaml), []);
});

test('SecretAnalyzer: missing, keyless and expired secrets are flagged', () => {
  const yaml =
    ingressPod +
    secret('expired', { 'tls.crt': CERT_2000_2001, 'tls.key': KEY }) +
    secret('keyless', { 'tls.crt': CERT_2000_2100 }) +
    gateway('missing', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'nope' } }) +
    gateway('expired', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'expired' } }) +
    gateway('keyless', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'keyless' } }) +
    gateway('no-workload', { selector: { app: 'x' }, port: 443, tls: { mode: 'SIMPLE', credentialName: 'expired' } });
  assert.deepEqual(run(secretAnalyzer, yaml), [
    'IST0101 Gateway default/missing',
    'IST0101 Gateway default/no-workload',
    'IST0161 Gateway default/expired',
    'IST0161 Gateway default/keyless',
  ]);
});

test('SecretAnalyzer: validity is checked against the clock', () => {
  const pem = Buffer.from(CERT_2000_2100, 'base64');
  assert.equal(certificateCurrentlyValid(pem, new Date('2050-01-01T00:00:00Z')), true);
  assert.equal(certificateCurrentlyValid(pem, new Date('1999-12-31T00:00:00Z')), false); // not yet valid
  assert.equal(certificateCurrentlyValid(pem, new Date('2100-01-02T00:00:00Z')), false); // expired
  assert.equal(certificateCurrentlyValid(Buffer.from('not a pem')), false);
});

// --- gateway.ConflictingGatewayAnalyzer ---

test('ConflictingGateway: same selector, port and host conflict', () => {
  const yaml = ingressPod + gateway('a', { hosts: ['foo.com'] }) + gateway('b', { hosts: ['foo.com', 'bar.com'] });
  assert.deepEqual(run(conflictingGatewayAnalyzer, yaml), ['IST0145 Gateway default/a', 'IST0145 Gateway default/b']);
});

test('ConflictingGateway: different hosts or ports do not conflict', () => {
  const yaml = ingressPod + gateway('a', { hosts: ['foo.com'] }) + gateway('b', { hosts: ['bar.com'] }) + gateway('c', { hosts: ['foo.com'], port: 81 });
  assert.deepEqual(run(conflictingGatewayAnalyzer, yaml), []);
});

// --- gateway.CertificateAnalyzer ---

test('CertificateAnalyzer: same credential on gateways with overlapping selectors', () => {
  const tls = { mode: 'SIMPLE', credentialName: 'shared' };
  const yaml = gateway('wide', { port: 443, tls }) + gateway('narrow', { port: 443, tls, selector: { istio: 'ingressgateway', type: 'internal' } });
  // Only the Gateway whose selector is included in the other's is flagged.
  assert.deepEqual(run(certificateAnalyzer, yaml), ['IST0138 Gateway default/wide']);
});

test('CertificateAnalyzer: distinct credentials, or namespace scoping, give nothing', () => {
  assert.deepEqual(
    run(certificateAnalyzer, gateway('a', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'one' } }) + gateway('b', { port: 443, tls: { mode: 'SIMPLE', credentialName: 'two' } })),
    [],
  );
  const tls = { mode: 'SIMPLE', credentialName: 'shared' };
  const yaml = gateway('a', { port: 443, tls }) + gateway('b', { port: 443, tls, ns: 'other' });
  assert.deepEqual(run(certificateAnalyzer, yaml), ['IST0138 Gateway default/a', 'IST0138 Gateway other/b']);
  assert.deepEqual(run(certificateAnalyzer, yaml, { PILOT_SCOPE_GATEWAY_TO_NAMESPACE: 'true' }), []);
});

// --- k8sgateway.SelectorAnalyzer ---

const gatewayApiPod = `
apiVersion: v1
kind: Pod
metadata: {name: gw-istio-1, namespace: default, labels: {gateway.networking.k8s.io/gateway-name: gw}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
---`;

test('k8sgateway.SelectorAnalyzer: selector on a Gateway API proxy is ineffective', () => {
  const yaml = gatewayApiPod + `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-selector, namespace: default}
spec: {selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: gw}}}
`;
  assert.deepEqual(run(k8sgatewaySelectorAnalyzer, yaml), ['IST0166 AuthorizationPolicy default/by-selector']);
});

test('k8sgateway.SelectorAnalyzer: targetRef, other namespaces and other pods pass', () => {
  const yaml = gatewayApiPod + `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: by-ref, namespace: default}
spec:
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: gw}}
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: elsewhere, namespace: other}
spec: {selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: gw}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: app, namespace: default}
spec: {selector: {matchLabels: {app: reviews}}}
`;
  assert.deepEqual(run(k8sgatewaySelectorAnalyzer, yaml), []);
});

// --- k8sgateway.CRDVersionAnalyzer ---

const crd = (plural: string, version: string) => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: ${version}}
spec: {group: gateway.networking.k8s.io, names: {kind: X, plural: ${plural}}, scope: Namespaced, versions: []}
---`;

test('CRDVersionAnalyzer: a CRD below the minimum is flagged', () => {
  assert.deepEqual(run(crdVersionAnalyzer, crd('tlsroutes', 'v1.4.1') + crd('tcproutes', 'v1.5.0')), [
    'IST0176 CustomResourceDefinition tcproutes.gateway.networking.k8s.io',
    'IST0176 CustomResourceDefinition tlsroutes.gateway.networking.k8s.io',
  ]);
});

test('CRDVersionAnalyzer: recent, prerelease-of-minimum and unlisted CRDs pass', () => {
  assert.deepEqual(run(crdVersionAnalyzer, crd('tlsroutes', 'v1.5.0-rc.1') + crd('grpcroutes', 'v1.4.1') + crd('httproutes', 'v0.1.0')), []);
});

// --- conditions.ConditionAnalyzer ---

test('ConditionAnalyzer: negative conditions of known types are reported', () => {
  const yaml = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: default}
spec: {parentRefs: [{name: gw}]}
status:
  parents:
  - parentRef: {name: gw}
    conditions:
    - {type: Accepted, status: "False", reason: NotAllowedByListeners, message: nope}
    - {type: ResolvedRefs, status: "False", reason: BackendNotFound, message: missing}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm, namespace: default}
spec: {address: 10.0.0.1}
status:
  conditions:
  - {type: istio.io/WaypointBound, status: "False", reason: WaypointIsNotReady, message: not ready}
`;
  assert.deepEqual(run(conditionAnalyzer, yaml), ['IST0171 HTTPRoute default/route', 'IST0171 HTTPRoute default/route', 'IST0171 WorkloadEntry default/vm']);
});

test('ConditionAnalyzer: positive or foreign conditions are ignored', () => {
  const yaml = `
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec: {ports: [{port: 80}]}
status:
  conditions:
  - {type: istio.io/WaypointBound, status: "True", reason: WaypointAccepted, message: ok}
  - {type: example.com/Synced, status: "False", reason: OutOfSync, message: not ours}
`;
  assert.deepEqual(run(conditionAnalyzer, yaml), []);
});
