import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { origin } from '../../../src/config/analysis/message.js';
import { k8sAnnotationsAnalyzer } from '../../../src/config/analysis/analyzers/annotations/k8s-annotations.js';
import { alphaAnalyzer } from '../../../src/config/analysis/analyzers/annotations/alpha.js';
import { ANNOTATIONS, isIstioAnnotation, lookupAnnotation } from '../../../src/config/analysis/analyzers/annotations/registry.js';
import { annotationValueError } from '../../../src/config/analysis/analyzers/annotations/validation.js';
import { deprecationAnalyzer } from '../../../src/config/analysis/analyzers/deprecation/deprecation.js';
import { multiServiceAnalyzer } from '../../../src/config/analysis/analyzers/deployment/multi-service.js';
import { portNameAnalyzer } from '../../../src/config/analysis/analyzers/service/port-name.js';
import { servicePortProtocol } from '../../../src/config/analysis/analyzers/service/protocol.js';

/** `CODE origin` of each message, sorted. */
function run(analyzer: Analyzer, yaml: string): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const { messages } = runAnalyzers(resources, [analyzer], { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks() });
  return messages.map((m) => `${m.code} ${origin(m)}`).sort();
}

const pod = (annotations: Record<string, string>, extra = '') => `
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations: ${JSON.stringify(annotations)}
spec:
  containers: [{name: app}]
${extra}
`;

test('registry: lookups, Istio namespace and feature status', () => {
  assert.equal(lookupAnnotation('proxy.istio.io/config')?.status, 'Beta');
  assert.deepEqual(lookupAnnotation('galley.istio.io/analyze-suppress')?.resources, ['Any']);
  assert.equal(lookupAnnotation('sidecar.istio.io/inject')?.deprecated, true);
  assert.equal(lookupAnnotation('no.istio.io/such'), undefined);
  assert.ok(isIstioAnnotation('readiness.status.sidecar.istio.io/periodSeconds'));
  assert.ok(isIstioAnnotation('kubernetes.io/ingress.class'));
  assert.ok(!isIstioAnnotation('kubernetes.io/psp'));
  assert.equal(new Set(ANNOTATIONS.map((a) => a.name)).size, ANNOTATIONS.length, 'names are unique');
});

test('annotation values: the injector checks', () => {
  assert.equal(annotationValueError('readiness.status.sidecar.istio.io/periodSeconds', '10'), undefined);
  assert.ok(annotationValueError('readiness.status.sidecar.istio.io/periodSeconds', '-1'));
  assert.equal(annotationValueError('traffic.sidecar.istio.io/includeOutboundIPRanges', '*'), undefined);
  assert.equal(annotationValueError('traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.0.0.0/8,fd00::/8'), undefined);
  assert.ok(annotationValueError('traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.0.0.0'));
  assert.ok(annotationValueError('traffic.sidecar.istio.io/excludeInboundPorts', '80,x'));
  assert.ok(annotationValueError('sidecar.istio.io/interceptionMode', 'MAGIC'));
  assert.ok(annotationValueError('prometheus.istio.io/merge-metrics', 'yes'));
  assert.equal(annotationValueError('proxy.istio.io/config', '{}'), undefined);
  assert.ok(annotationValueError('proxy.istio.io/config', 'statusPort: 70000'));
  assert.equal(annotationValueError('sidecar.istio.io/proxyCPU', 'anything'), undefined, 'not checked');
});

test('K8sAnalyzer: unknown, misplaced, deprecated and invalid annotations', () => {
  assert.deepEqual(run(k8sAnnotationsAnalyzer, pod({ 'sidecar.istio.io/injekt': 'true' })), ['IST0108 Pod default/app']);
  assert.deepEqual(run(k8sAnnotationsAnalyzer, pod({ 'networking.istio.io/exportTo': '.' })), ['IST0107 Pod default/app']);
  assert.deepEqual(run(k8sAnnotationsAnalyzer, pod({ 'status.sidecar.istio.io/port': 'abc' })), ['IST0125 Pod default/app']);
  assert.deepEqual(run(k8sAnnotationsAnalyzer, pod({ 'sidecar.istio.io/inject': 'true' })), ['IST0135 Pod default/app']);
});

test('K8sAnalyzer: well-placed, valid and foreign annotations pass', () => {
  const ok = { 'sidecar.istio.io/proxyCPU': '100m', 'galley.istio.io/analyze-suppress': 'IST0103', 'helm.sh/hook': 'x', 'proxy.istio.io/config': 'concurrency: 2' };
  assert.deepEqual(run(k8sAnnotationsAnalyzer, pod(ok)), []);
  // The deprecated inject annotation is fine when the replacement label is there too.
  const both = pod({ 'sidecar.istio.io/inject': 'true' }).replace('name: app', 'name: app\n  labels: {sidecar.istio.io/inject: "true"}');
  assert.deepEqual(run(k8sAnnotationsAnalyzer, both), []);
});

test('AlphaAnalyzer: alpha annotations, except those Istio writes itself', () => {
  assert.deepEqual(run(alphaAnalyzer, pod({ 'sidecar.istio.io/proxyCPU': '100m', 'sidecar.istio.io/logLevel': 'debug' })), [
    'IST0136 Pod default/app',
    'IST0136 Pod default/app',
  ]);
  assert.deepEqual(run(alphaAnalyzer, pod({ 'proxy.istio.io/config': '{}', 'sidecar.istio.io/status': '{}', 'istio.io/rev': 'x' })), []);
  // With CNI (no istio-init), the injector writes the capture annotations: not the user's choice.
  assert.deepEqual(run(alphaAnalyzer, pod({ 'sidecar.istio.io/interceptionMode': 'REDIRECT' })), []);
  const withInit = pod({ 'sidecar.istio.io/interceptionMode': 'REDIRECT' }, '  initContainers: [{name: istio-init}]');
  assert.deepEqual(run(alphaAnalyzer, withInit), ['IST0136 Pod default/app']);
});

test('DeprecationAnalyzer: deprecated fields and removed resource types', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: old, namespace: ns}
spec:
  hosts: [a]
  http: [{fault: {delay: {percent: 10, fixedDelay: 1s}}, route: [{destination: {host: a}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: new, namespace: ns}
spec:
  hosts: [a]
  http: [{fault: {delay: {percentage: {value: 10}, fixedDelay: 1s}}, route: [{destination: {host: a}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: plain, namespace: ns}
spec: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: serviceroles.rbac.istio.io}
spec: {group: rbac.istio.io, names: {kind: ServiceRole, plural: serviceroles}, scope: Namespaced}
`;
  assert.deepEqual(run(deprecationAnalyzer, yaml), [
    'IST0002 CustomResourceDefinition serviceroles.rbac.istio.io',
    'IST0002 VirtualService ns/old',
  ]);
});

const meshedDeployment = (name: string, app: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}, sidecar.istio.io/inject: "true"}}
    spec: {containers: [{name: app, image: app}]}
---`;

const service = (name: string, app: string, ports: string) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {app: ${app}}
  ports: ${ports}
---`;

test('MultiServiceAnalyzer: services disagreeing on a port of a meshed Deployment', () => {
  const yaml = [
    meshedDeployment('cart', 'cart'),
    service('cart-tcp', 'cart', '[{name: tcp, port: 80, protocol: TCP}]'),
    service('cart-udp', 'cart', '[{name: udp, port: 80, protocol: UDP}]'),
    meshedDeployment('pay', 'pay'),
    service('pay-a', 'pay', '[{name: http, port: 80, targetPort: 8080}]'),
    service('pay-b', 'pay', '[{name: http, port: 81, targetPort: 8080}]'),
  ].join('\n');
  assert.deepEqual(run(multiServiceAnalyzer, yaml), ['IST0116 Deployment shop/cart', 'IST0137 Deployment shop/pay']);
});

test('MultiServiceAnalyzer: consistent services, or a Deployment outside the mesh, pass', () => {
  const consistent = [
    meshedDeployment('cart', 'cart'),
    service('cart-a', 'cart', '[{name: http, port: 80}]'),
    service('cart-b', 'cart', '[{name: http-b, port: 80}]'),
  ].join('\n');
  assert.deepEqual(run(multiServiceAnalyzer, consistent), []);
  // The same conflict as in the test above, but the pods get no sidecar.
  const outside = [
    meshedDeployment('cart', 'cart').replace('sidecar.istio.io/inject: "true"', 'sidecar.istio.io/inject: "false"'),
    service('cart-tcp', 'cart', '[{name: tcp, port: 80, protocol: TCP}]'),
    service('cart-udp', 'cart', '[{name: udp, port: 80, protocol: UDP}]'),
  ].join('\n');
  assert.deepEqual(run(multiServiceAnalyzer, outside), []);
});

test('port protocol: name prefix, appProtocol, UDP and well-known ports', () => {
  assert.equal(servicePortProtocol({ name: 'http-web', port: 80 }), 'HTTP');
  assert.equal(servicePortProtocol({ name: 'GRPC-Web-x', port: 80 }), 'GRPC-Web');
  assert.equal(servicePortProtocol({ name: 'web', appProtocol: 'http2', port: 80 }), 'HTTP2');
  assert.equal(servicePortProtocol({ name: 'dns', protocol: 'UDP', port: 53 }), 'UDP');
  assert.equal(servicePortProtocol({ name: 'db', port: 3306 }), 'TCP');
  assert.equal(servicePortProtocol({ name: 'web', port: 80 }), 'Unsupported');
});

test('PortNameAnalyzer: ports that name no protocol', () => {
  const yaml = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: web, port: 80}, {name: http-web, port: 81}, {port: 82}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: example.com, ports: [{name: tcp, port: 443}]}
`;
  assert.deepEqual(run(portNameAnalyzer, yaml), ['IST0118 Service shop/web', 'IST0118 Service shop/web', 'IST0150 Service shop/ext']);
});

test('PortNameAnalyzer: named ports, control plane and managed gateways pass', () => {
  const yaml = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}, {name: x, appProtocol: grpc, port: 81}]}
---
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system, labels: {release: istio}}
spec: {ports: [{name: foo, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: wp, namespace: shop, labels: {gateway.istio.io/managed: istio.io-mesh-controller}}
spec: {ports: [{name: mesh, appProtocol: hbone, port: 15008}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: example.com, ports: [{name: https, port: 443}]}
`;
  assert.deepEqual(run(portNameAnalyzer, yaml), []);
});
