import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { defaultMeshConfig, defaultMeshNetworks, mergeMesh } from '../../../src/config/mesh.js';
import { injectionAnalyzer } from '../../../src/config/analysis/analyzers/injection/injection.js';
import { imageAnalyzer } from '../../../src/config/analysis/analyzers/injection/image.js';
import { imageAutoAnalyzer } from '../../../src/config/analysis/analyzers/injection/image-auto.js';
import { webhookAnalyzer } from '../../../src/config/analysis/analyzers/webhook/webhook.js';
import { externalControlPlaneAnalyzer } from '../../../src/config/analysis/analyzers/externalcontrolplane/external-control-plane.js';
import { labelSelectorMatches } from '../../../src/config/analysis/analyzers/webhook/label-selector.js';

/** Runs one analyzer over inline YAML; returns `CODE Kind ns/name` strings. */
function run(analyzer: Analyzer, yaml: string, mesh: Record<string, any> = {}): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const result = runAnalyzers(resources, [analyzer], {
    meshConfig: mergeMesh(defaultMeshConfig(), mesh),
    meshNetworks: defaultMeshNetworks(),
  });
  return result.messages.map((m) => `${m.code} ${m.resource?.info.kind} ${m.resource?.metadata.namespace ? `${m.resource.metadata.namespace}/` : ''}${m.resource?.metadata.name}`);
}

const ns = (name: string, labels: Record<string, string> = {}) => `
apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
---`;

const pod = (name: string, namespace: string, proxyImage?: string, extra = '') => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
${extra}
spec:
  containers:
  - name: app
    image: app:1
${proxyImage ? `  - name: istio-proxy\n    image: ${proxyImage}` : ''}
---`;

const injectorConfigMap = (name: string, values: Record<string, any>) => `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: istio-system
data:
  values: '${JSON.stringify(values)}'
---`;

const values = (image = 'proxyv2', enableNamespacesByDefault = false) => ({
  global: { hub: 'docker.io/istio', tag: '1.20.0', proxy: { image } },
  sidecarInjectorWebhook: { enableNamespacesByDefault },
});

test('injection.Analyzer: unlabelled namespace, pod without proxy, conflicting labels', () => {
  const out = run(
    injectionAnalyzer,
    ns('plain') + ns('on', { 'istio-injection': 'enabled' }) + ns('both', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }) +
      ns('mixed', { 'istio.io/rev': 'canary', 'istio.io/dataplane-mode': 'ambient' }) +
      pod('bare', 'on') + pod('ok', 'on', 'docker.io/istio/proxyv2:1.20.0'),
  );
  assert.deepEqual(out.sort(), ['IST0102 Namespace plain', 'IST0103 Pod on/bare', 'IST0123 Namespace both', 'IST0123 Namespace mixed']);
});

test('injection.Analyzer: opted-out pods, ambient and disabled namespaces are quiet', () => {
  const out = run(
    injectionAnalyzer,
    ns('on', { 'istio-injection': 'enabled' }) + ns('amb', { 'istio.io/dataplane-mode': 'ambient' }) + ns('off', { 'istio-injection': 'disabled', 'istio.io/rev': 'x' }) +
      pod('optout', 'on', undefined, '  labels: {"sidecar.istio.io/inject": "false"}') +
      pod('optout-annotation', 'on', undefined, '  annotations: {"sidecar.istio.io/inject": "False"}') +
      pod('off-pod', 'off'),
  );
  assert.deepEqual(out, []);
});

test('injection.Analyzer: enableNamespacesByDefault turns "not injected" into an info', () => {
  const out = run(injectionAnalyzer, ns('plain') + injectorConfigMap('istio-sidecar-injector', values('proxyv2', true)));
  assert.deepEqual(out, ['IST0148 Namespace plain']);
});

test('injection.ImageAnalyzer: stale proxies are listed per namespace, per revision injector', () => {
  const out = run(
    imageAnalyzer,
    injectorConfigMap('istio-sidecar-injector', values()) +
      injectorConfigMap('istio-sidecar-injector-canary', values('quay.io/istio/proxyv2:1.21.0')) +
      ns('on', { 'istio-injection': 'enabled' }) + ns('rev', { 'istio.io/rev': 'canary' }) + ns('plain') +
      pod('old', 'on', 'docker.io/istio/proxyv2:1.19.0') + pod('new', 'on', 'docker.io/istio/proxyv2:1.20.0') +
      pod('rev-old', 'rev', 'docker.io/istio/proxyv2:1.20.0') + pod('rev-new', 'rev', 'quay.io/istio/proxyv2:1.21.0') +
      pod('custom', 'on', 'my/proxy:1', '  annotations: {"sidecar.istio.io/proxyImage": "my/proxy:1"}') +
      pod('ignored', 'plain', 'docker.io/istio/proxyv2:1.0.0'),
  );
  assert.deepEqual(out, ['IST0158 Namespace on', 'IST0158 Namespace rev']);
});

test('injection.ImageAnalyzer: image variants from mesh config and ProxyConfig are accepted', () => {
  const yaml =
    injectorConfigMap('istio-sidecar-injector', values()) + ns('on', { 'istio-injection': 'enabled' }) + ns('pc', { 'istio-injection': 'enabled' }) +
    `
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: { name: pc, namespace: pc }
spec: { image: { imageType: debug } }
---` +
    pod('distroless', 'on', 'docker.io/istio/proxyv2:1.20.0-distroless') + pod('debug', 'pc', 'docker.io/istio/proxyv2:1.20.0-debug');
  assert.deepEqual(run(imageAnalyzer, yaml, { defaultConfig: { image: { imageType: 'distroless' } } }), []);
  // Without the mesh-wide distroless default, the distroless pod is stale.
  assert.deepEqual(run(imageAnalyzer, yaml), ['IST0158 Namespace on']);
});

const injectorWebhooks = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: istio-sidecar-injector }
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig: { service: { name: istiod, namespace: istio-system } }
  namespaceSelector:
    matchExpressions:
    - { key: istio-injection, operator: In, values: [enabled] }
---`;

test('injection.ImageAutoAnalyzer: image auto outside injection', () => {
  const out = run(
    imageAutoAnalyzer,
    injectorWebhooks + ns('on', { 'istio-injection': 'enabled' }) +
      pod('stuck', 'on', 'auto') +
      `
apiVersion: apps/v1
kind: Deployment
metadata: { name: gw-out, namespace: elsewhere }
spec:
  template:
    metadata: { labels: { app: gw } }
    spec: { containers: [ { name: istio-proxy, image: auto } ] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: gw-in, namespace: on }
spec:
  template:
    metadata: { labels: { app: gw } }
    spec: { containers: [ { name: istio-proxy, image: auto } ] }
`,
  );
  assert.deepEqual(out.sort(), ['IST0146 Deployment elsewhere/gw-out', 'IST0147 Pod on/stuck']);
});

test('webhook.Analyzer: overlapping injectors and a missing Service', () => {
  const hook = (name: string, svc: string) => `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: ${name} }
webhooks:
- name: sidecar-injector.istio.io
  clientConfig: { service: { name: ${svc}, namespace: istio-system } }
  namespaceSelector: { matchLabels: { istio-injection: enabled } }
---`;
  const svc = `
apiVersion: v1
kind: Service
metadata: { name: istiod, namespace: istio-system }
spec: {}
---`;
  assert.deepEqual(run(webhookAnalyzer, hook('a', 'istiod') + hook('b', 'missing') + svc).sort(), [
    'IST0139 MutatingWebhookConfiguration a',
    'IST0139 MutatingWebhookConfiguration b',
    'IST0139 MutatingWebhookConfiguration b',
  ]);
  // A single injector pointing at an existing Service is fine.
  assert.deepEqual(run(webhookAnalyzer, hook('a', 'istiod') + svc), []);
});

test('webhook.Analyzer: revisioned injectors that split the label space do not overlap', () => {
  const yaml = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: istio-sidecar-injector-canary, labels: { istio.io/rev: canary } }
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: { url: https://istiod.example.com/inject }
  namespaceSelector: { matchLabels: { istio.io/rev: canary } }
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: istio-sidecar-injector }
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig: { url: https://istiod.example.com/inject }
  namespaceSelector:
    matchLabels: { istio-injection: enabled }
    matchExpressions: [ { key: istio.io/rev, operator: DoesNotExist } ]
`;
  assert.deepEqual(run(webhookAnalyzer, yaml), []);
});

test('externalcontrolplane: blank webhook client config and IP addresses', () => {
  const yaml = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: istio-validator-external-istiod }
webhooks:
- name: rev.validation.istio.io
  clientConfig: { url: null }
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: istio-sidecar-injector-external-istiod }
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: { url: "https://10.0.0.1:15017/inject" }
- name: object.sidecar-injector.istio.io
  clientConfig: { url: "https://istiod.example.com/inject" }
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: some-other-webhook }
webhooks:
- name: other.example.com
  clientConfig: { url: null }
`;
  assert.deepEqual(run(externalControlPlaneAnalyzer, yaml).sort(), [
    'IST0163 ValidatingWebhookConfiguration istio-validator-external-istiod',
    'IST0164 MutatingWebhookConfiguration istio-sidecar-injector-external-istiod',
  ]);
});

test('externalcontrolplane: hostnames and in-cluster Services are fine', () => {
  const yaml = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: istiod-default-validator }
webhooks:
- name: validation.istio.io
  clientConfig: { service: { name: istiod, namespace: istio-system } }
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: istio-sidecar-injector }
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig: { url: "https://istiod.example.com:15017/inject" }
`;
  assert.deepEqual(run(externalControlPlaneAnalyzer, yaml), []);
});

test('labelSelectorMatches follows Kubernetes selector rules', () => {
  assert.equal(labelSelectorMatches(undefined, {}), true);
  assert.equal(labelSelectorMatches({}, { a: '1' }), true);
  assert.equal(labelSelectorMatches({ matchLabels: { a: '1' } }, { a: '1' }), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {}), false);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, { a: '1' }), false);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: '1' }), false);
});
