import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../src/config/loader.js';
import type { Resource } from '../../src/api/resource.js';
import { hasStructuralSchema, loadStructuralSchemas, validateStructure, validateStructureAll } from '../../src/config/schema.js';

function load(yaml: string): Resource[] {
  const { resources, errors } = parseText(yaml, 'inline.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  return resources;
}

/** `line fieldPath: message` of every structural error. */
async function check(yaml: string): Promise<string[]> {
  const errors = await validateStructureAll(load(yaml));
  for (const e of errors) assert.equal(e.code, 'E_SCHEMA');
  return errors.map((e) => `${e.position?.line} ${e.fieldPath}: ${e.message}`);
}

const BOOKINFO = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bookinfo }
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{ uri: { exact: /productpage } }, { uri: { prefix: /static } }]
    route: [{ destination: { host: productpage, port: { number: 9080 } } }]
    timeout: 10s
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { loadBalancer: { simple: RANDOM }, tls: { mode: ISTIO_MUTUAL } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: { name: external }
spec:
  hosts: [api.example.com]
  ports: [{ number: 443, name: https, protocol: TLS }]
  resolution: DNS
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ratings }
spec:
  selector: { matchLabels: { app: ratings } }
  rules: [{ from: [{ source: { principals: [cluster.local/ns/default/sa/reviews] } }], to: [{ operation: { methods: [GET], ports: ["9080"] } }] }]
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: { name: default }
spec: { mtls: { mode: STRICT } }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, labels: { app: reviews } }
spec:
  ports: [{ port: 9080, name: http, targetPort: http }]
  selector: { app: reviews }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-v1 }
spec:
  replicas: 1
  selector: { matchLabels: { app: reviews, version: v1 } }
  template:
    metadata: { labels: { app: reviews, version: v1 } }
    spec:
      containers:
      - name: reviews
        image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.1
        ports: [{ containerPort: 9080, name: http }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules: [{ backendRefs: [{ name: reviews-v1, port: 9080, weight: 90 }, { name: reviews-v2, port: 9080, weight: 10 }] }]
`;

test('valid bookinfo-like resources of every family pass', async () => {
  const resources = load(BOOKINFO);
  assert.equal(resources.length, 9);
  for (const r of resources) assert.ok(hasStructuralSchema(r), `${r.apiVersion} ${r.kind}`);
  assert.deepEqual(await check(BOOKINFO), []);
});

test('a wrong type is reported at the field, with its path and line', async () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews }
      weight: "80"
    timeout: 5
`;
  assert.deepEqual(await check(yaml), [
    '9 spec.http[0].route[0].weight: must be integer, not string',
    '10 spec.http[0].timeout: must be string, not integer',
  ]);
  const [err] = await validateStructureAll(load(yaml));
  assert.equal(err.format(), 'inline.yaml:9: spec.http[0].route[0].weight: must be integer, not string [E_SCHEMA]');
});

test('enums, required fields and mutually exclusive fields', async () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    tls: { mode: STRICT }
    loadBalancer: { simple: ROUND_ROBIN, consistentHash: { useSourceIp: true } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { exact: /a, prefix: /b } }]
    route: [{ destination: { subset: v1 } }]
`;
  assert.deepEqual(await check(yaml), [
    '8 spec.trafficPolicy.loadBalancer: sets more than one of a set of mutually exclusive fields (it has: simple, consistentHash)',
    '7 spec.trafficPolicy.tls.mode: must be one of "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", not "STRICT"',
    '16 spec.http[0].match[0].uri: sets more than one of a set of mutually exclusive fields (it has: exact, prefix)',
    '17 spec.http[0].route[0].destination.host: required field is missing',
  ]);
});

test('Kubernetes and Gateway API kinds are checked against their own schemas', async () => {
  const yaml = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec:
  ports: [{ port: "9080", protocol: HTTP }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: istio
  listeners: [{ name: http, port: 80, protocol: HTTP, hostname: "Not_A_Host" }]
`;
  const lines = await check(yaml);
  assert.equal(lines.length, 3);
  assert.equal(lines[0], '5 spec.ports[0].port: must be integer, not string');
  assert.match(lines[1], /^5 spec\.ports\[0\]\.protocol: must be one of "SCTP", "TCP", "UDP", not "HTTP"$/);
  assert.match(lines[2], /^12 spec\.listeners\[0\]\.hostname: "Not_A_Host" does not match the pattern/);
});

test('unknown fields are not rejected (the published schemas allow them); status is not checked', async () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  htpp: [{ route: [{ destination: { host: reviews } }] }]
status:
  conditions: [{ type: 5 }]
`;
  assert.deepEqual(await check(yaml), []);
});

test('validation does not change the resource', async () => {
  const [r] = load(BOOKINFO);
  const before = JSON.stringify(r.raw);
  await validateStructureAll([r]);
  assert.equal(JSON.stringify(r.raw), before);
});

test('a resource without a published schema has no structural errors; an unloaded schema is a programming error', async () => {
  const [vs] = load('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: x }\nspec: { hosts: [x] }\n');
  const synthetic = { ...vs, apiVersion: 'meshmedic.internal/v1alpha1', kind: 'MeshConfig' } as Resource;
  assert.equal(hasStructuralSchema(synthetic), false);
  assert.deepEqual(validateStructure(synthetic), []);
  const [wasm] = load('apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: { name: x }\nspec: { url: oci://x }\n');
  // WasmPlugin's schema is loaded by no other test in this file.
  assert.throws(() => validateStructure(wasm), /not loaded/);
  await loadStructuralSchemas([wasm]);
  assert.deepEqual(validateStructure(wasm), []);
});
