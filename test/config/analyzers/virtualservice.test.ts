import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/config/loader.js';
import { runAnalyzers } from '../../../src/config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../../../src/config/mesh.js';
import type { Analyzer } from '../../../src/config/analysis/analyzer.js';
import { conflictingMeshGatewayHostsAnalyzer } from '../../../src/config/analysis/analyzers/virtualservice/conflicting-mesh-gateway-hosts.js';
import { destinationHostAnalyzer } from '../../../src/config/analysis/analyzers/virtualservice/destination-host.js';
import { destinationRuleAnalyzer } from '../../../src/config/analysis/analyzers/virtualservice/destination-rule.js';
import { gatewayAnalyzer } from '../../../src/config/analysis/analyzers/virtualservice/gateway.js';
import { jwtClaimRouteAnalyzer } from '../../../src/config/analysis/analyzers/virtualservice/jwt-claim-route.js';

/** `CODE Kind ns/name` of each message the analyzer reports for the YAML. */
function run(analyzer: Analyzer, yaml: string): string[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const { messages } = runAnalyzers(resources, [analyzer], { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks() });
  return messages.map((m) => `${m.code} ${m.resource?.info.kind} ${m.resource?.metadata.namespace}/${m.resource?.metadata.name}`);
}

const vs = (name: string, spec: string, ns = 'default') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: ${ns}
spec:
${spec}
---`;

const service = (name: string, ports: number[], ns = 'default') => `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  ports:
${ports.map((p) => `  - port: ${p}\n    name: http-${p}`).join('\n')}
---`;

test('ConflictingMeshGatewayHosts: two mesh VirtualServices for one host conflict', () => {
  const yaml = vs('a', '  hosts: [reviews]') + vs('b', '  hosts: [reviews.default.svc.cluster.local]');
  assert.deepEqual(run(conflictingMeshGatewayHostsAnalyzer, yaml).sort(), [
    'IST0109 VirtualService default/a',
    'IST0109 VirtualService default/b',
  ]);
});

test('ConflictingMeshGatewayHosts: different gateways or namespace-local exports do not conflict', () => {
  const yaml =
    vs('a', '  hosts: [reviews]') +
    vs('b', '  hosts: [reviews]\n  gateways: [ingress]') +
    vs('c', '  hosts: [ratings]\n  exportTo: ["."]', 'one') +
    vs('c', '  hosts: [ratings.one.svc.cluster.local]\n  exportTo: ["."]', 'two');
  assert.deepEqual(run(conflictingMeshGatewayHostsAnalyzer, yaml), []);
});

test('ConflictingMeshGatewayHosts: a host exported everywhere clashes with a matching local one', () => {
  const yaml = vs('a', '  hosts: ["*.example.com"]', 'one') + vs('b', '  hosts: [api.example.com]\n  exportTo: ["."]', 'two');
  assert.deepEqual(run(conflictingMeshGatewayHostsAnalyzer, yaml).sort(), [
    'IST0109 VirtualService one/a',
    'IST0109 VirtualService two/b',
  ]);
});

const routeTo = (host: string, extra = '') => `  http:\n  - route:\n    - destination:\n        host: ${host}${extra}`;

test('DestinationHost: routes to known services and ports pass', () => {
  const yaml =
    service('reviews', [9080]) +
    `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext
  namespace: default
spec:
  hosts: ["*.example.com"]
---` +
    vs('a', routeTo('reviews')) +
    vs('b', routeTo('reviews.default.svc.cluster.local', '\n        port:\n          number: 9080')) +
    vs('c', routeTo('api.example.com'));
  assert.deepEqual(run(destinationHostAnalyzer, yaml), []);
});

test('DestinationHost: unknown host, unknown port and missing port selector are reported', () => {
  const yaml =
    service('reviews', [9080]) +
    service('two-ports', [80, 443]) +
    vs('bogus', routeTo('nope')) +
    vs('badport', routeTo('reviews', '\n        port:\n          number: 1')) +
    vs('noport', routeTo('two-ports')) +
    vs('mirror', `${routeTo('reviews')}\n    mirror:\n      host: nope`);
  assert.deepEqual(run(destinationHostAnalyzer, yaml).sort(), [
    'IST0101 VirtualService default/badport',
    'IST0101 VirtualService default/bogus',
    'IST0101 VirtualService default/mirror',
    'IST0112 VirtualService default/noport',
  ]);
});

test('DestinationHost: a Service exported elsewhere is not visible to the VirtualService', () => {
  const yaml =
    `
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: default
  annotations:
    networking.istio.io/exportTo: banana
spec:
  ports:
  - port: 9080
---` +
    vs('seen', routeTo('details.default.svc.cluster.local'), 'banana') +
    vs('unseen', routeTo('details.default.svc.cluster.local'), 'other');
  assert.deepEqual(run(destinationHostAnalyzer, yaml), ['IST0101 VirtualService other/unseen']);
});

test('DestinationHost: a subset-less gateway route to a host split by subsets is flagged', () => {
  const yaml =
    service('ratings', [80]) +
    vs('ratings', `  hosts: [ratings]\n${routeTo('ratings', '\n        subset: v1')}`) +
    vs('ingress', `  hosts: [ratings.example.com]\n  gateways: [gw]\n${routeTo('ratings')}`) +
    vs('ingress-subset', `  hosts: [ratings.example.com]\n  gateways: [gw]\n${routeTo('ratings', '\n        subset: v1')}`);
  assert.deepEqual(run(destinationHostAnalyzer, yaml), ['IST0140 VirtualService default/ingress']);
});

const destinationRule = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  subsets:
  - name: v1
---`;

test('DestinationRule: subsets defined by a DestinationRule pass, in short or FQDN form', () => {
  const yaml =
    destinationRule +
    vs('a', routeTo('reviews', '\n        subset: v1')) +
    vs('b', routeTo('reviews.default.svc.cluster.local', '\n        subset: v1')) +
    vs('c', routeTo('reviews'));
  assert.deepEqual(run(destinationRuleAnalyzer, yaml), []);
});

test('DestinationRule: an undefined subset in a route or mirror is reported', () => {
  const yaml =
    destinationRule +
    vs('route', routeTo('reviews', '\n        subset: v2')) +
    vs('mirror', `${routeTo('reviews', '\n        subset: v1')}\n    mirror:\n      host: reviews\n      subset: v3`);
  assert.deepEqual(run(destinationRuleAnalyzer, yaml).sort(), [
    'IST0101 VirtualService default/mirror',
    'IST0101 VirtualService default/route',
  ]);
});

const gateway = (name: string, hosts: string[], ns = 'istio-system') => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [${hosts.map((h) => `"${h}"`).join(', ')}]
---`;

test('Gateway: existing gateways serving the hosts pass', () => {
  const yaml =
    gateway('gw', ['*.example.com', './local.com']) +
    vs('a', '  hosts: [api.example.com]\n  gateways: [istio-system/gw, mesh]') +
    vs('b', '  hosts: [local.com]\n  gateways: [gw]', 'istio-system');
  assert.deepEqual(run(gatewayAnalyzer, yaml), []);
});

test('Gateway: missing gateways, unserved hosts and internal gateways are reported', () => {
  const yaml =
    gateway('gw', ['./local.com']) +
    vs('missing', '  hosts: [a.com]\n  gateways: [nope]') +
    vs('other-ns', '  hosts: [local.com]\n  gateways: [istio-system/gw]') +
    vs('internal', '  hosts: [a.com]\n  gateways: ["ns/gw~istio-autogenerated-k8s-gateway~http"]');
  assert.deepEqual(run(gatewayAnalyzer, yaml).sort(), [
    'IST0101 VirtualService default/missing',
    'IST0132 VirtualService default/missing',
    'IST0132 VirtualService default/other-ns',
    'IST0165 VirtualService default/internal',
  ]);
});

test('Gateway: Kubernetes Gateway listeners are matched by hostname', () => {
  const yaml =
    `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: k8s
  namespace: default
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    hostname: example.com
    port: 80
    protocol: HTTP
---` +
    vs('ok', '  hosts: [example.com]\n  gateways: [k8s]') +
    vs('mismatch', '  hosts: [other.com]\n  gateways: [k8s]');
  assert.deepEqual(run(gatewayAnalyzer, yaml), ['IST0132 VirtualService default/mismatch']);
});

const claimRoute = `  hosts: [foo.com]
  gateways: [istio-system/gw]
  http:
  - match:
    - headers:
        "@request.auth.claims.group":
          exact: admin
    route:
    - destination:
        host: foo`;

const gatewayPod = `
apiVersion: v1
kind: Pod
metadata:
  name: ingress-pod
  namespace: istio-system
  labels:
    istio: ingressgateway
spec:
  containers:
  - name: istio-proxy
---`;

test('JWTClaimRoute: claim routing on a gateway pod without RequestAuthentication is reported', () => {
  const yaml = gateway('gw', ['foo.com']) + gatewayPod + vs('claims', claimRoute) + vs('plain', '  hosts: [foo.com]\n  gateways: [istio-system/gw]');
  assert.deepEqual(run(jwtClaimRouteAnalyzer, yaml), ['IST0149 VirtualService default/claims']);
});

test('JWTClaimRoute: a RequestAuthentication selecting the gateway pod satisfies it', () => {
  const yaml =
    gateway('gw', ['foo.com']) +
    gatewayPod +
    vs('claims', claimRoute) +
    `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: https://issuer.example.com
---`;
  assert.deepEqual(run(jwtClaimRouteAnalyzer, yaml), []);
});
