import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { InputErrors } from '../../src/api/errors.js';
import { generateTopology } from '../../src/platform/local/topology/generate.js';
import { callsOf, type Topology } from '../../src/platform/local/topology/model.js';
import { loadTopology, parseTopology } from '../../src/platform/local/topology/parse.js';
import { planMesh } from '../../src/platform/local/topology/plan.js';
import { topologyToYaml } from '../../src/platform/local/topology/serialize.js';
import { parseByteSize, parseDuration, parsePercentage } from '../../src/platform/local/topology/units.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function parseOk(text: string): Topology {
  const r = parseTopology(text, 't.yaml');
  assert.deepEqual(r.errors.map((e) => e.format()), []);
  return r.topology!;
}

const svc = (t: Topology, name: string) => t.services.find((s) => s.name === name)!;
const edges = (t: Topology) => t.services.flatMap((s) => [...new Set(s.versions.flatMap((v) => callsOf(v.behaviour).map((c) => `${s.name}->${c.service}`)))]).sort();

// ------------------------------------------------------------------ isotope's own format

test('isotope: defaults, errorRate as a percentage, sizes, string and mapping calls, a concurrent step', () => {
  const t = parseOk(`
apiVersion: v1alpha1
kind: MockServiceGraph
defaults:
  type: grpc
  requestSize: 1 KB
  responseSize: 16 KB
services:
- name: a
  errorRate: 0.01%
  script:
  - sleep: 100ms
- name: b
  type: http
- name: c
  script:
  - call:
      service: a
      size: 10K
  - call: b
- name: d
  isEntrypoint: true
  script:
  - - call: a
    - call: c
  - sleep: 10ms
  - call: b
`);
  const a = svc(t, 'a');
  assert.equal(a.versions[0].behaviour.errorRate, 0.0001);
  assert.equal(a.versions[0].behaviour.responseSize, 16 * 1024);
  assert.deepEqual(a.versions[0].behaviour.script, [{ kind: 'sleep', latency: { distribution: 'fixed', ms: 100 } }]);
  assert.deepEqual(a.ports, [{ name: 'grpc', port: 8080, targetPort: 8080, protocol: 'grpc' }]);
  assert.equal(svc(t, 'b').ports[0].protocol, 'http');
  const [toA, toB] = callsOf(svc(t, 'c').versions[0].behaviour);
  assert.deepEqual([toA.service, toA.size, toA.method, toA.protocol], ['a', 10 * 1024, 'POST', 'grpc']);
  assert.deepEqual([toB.service, toB.size, toB.protocol, toB.onError, toB.probability], ['b', 1024, 'http', 'propagate', 1]);
  const d = svc(t, 'd');
  assert.equal(d.isEntrypoint, true);
  assert.deepEqual(
    d.versions[0].behaviour.script.map((s) => s.kind),
    ['concurrent', 'sleep', 'call'],
  );
  assert.deepEqual(d.versions, [{ ...d.versions[0], name: 'v1', replicas: 1, labels: {} }]);
});

test('isotope: numReplicas, fan-out, entrypoints; fields we do not act on are warnings', () => {
  const r = parseTopology(
    `defaults:
  numReplicas: 2
  requestSize: 1 KB
  numRbacPolicies: 3
services:
- name: root
  isEntrypoint: true
  namespace: demo1
  cluster: cluster1
  script:
  - - call: leaf-0
    - call: leaf-1
    - call: {service: leaf-2, hostname: leaf-2.global:8080}
- name: leaf-0
  numReplicas: 3
- name: leaf-1
- name: leaf-2
  namespace: demo2
`,
    'fanout.yaml',
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.warnings.map((w) => [w.position?.line, w.fieldPath]),
    [
      [4, 'defaults.numRbacPolicies'],
      [9, 'services[0].cluster'],
    ],
  );
  const t = r.topology!;
  assert.deepEqual(
    t.services.map((s) => [s.name, s.namespace, s.versions[0].replicas]),
    [
      ['root', 'demo1', 2],
      ['leaf-0', 'default', 3],
      ['leaf-1', 'default', 2],
      ['leaf-2', 'demo2', 2],
    ],
  );
  const calls = callsOf(svc(t, 'root').versions[0].behaviour);
  assert.deepEqual(
    calls.map((c) => [c.service, c.namespace, c.hostname]),
    [
      ['leaf-0', 'default', undefined],
      ['leaf-1', 'default', undefined],
      ['leaf-2', 'demo2', 'leaf-2.global:8080'],
    ],
  );
});

test('units: Go durations, go-units sizes, isotope percentages', () => {
  assert.deepEqual(parseDuration('1m30s'), { ok: true, value: 90_000 });
  assert.deepEqual(parseDuration('1.5s'), { ok: true, value: 1500 });
  assert.deepEqual(parseDuration('250us'), { ok: true, value: 0.25 });
  assert.equal(parseDuration('10').ok, false);
  assert.equal(parseDuration(10).ok, false);
  assert.equal(parseDuration('-1s').ok, false);
  assert.equal(parseDuration('10 ms').ok, false);
  assert.deepEqual(parseByteSize('1 KB'), { ok: true, value: 1024 });
  assert.deepEqual(parseByteSize('16KiB'), { ok: true, value: 16384 });
  assert.deepEqual(parseByteSize('2mb'), { ok: true, value: 2 * 1024 * 1024 });
  assert.deepEqual(parseByteSize(128), { ok: true, value: 128 });
  assert.equal(parseByteSize(-1).ok, false);
  assert.equal(parseByteSize('lots').ok, false);
  assert.deepEqual(parsePercentage('5%'), { ok: true, value: 0.05 });
  assert.deepEqual(parsePercentage(0.5), { ok: true, value: 0.5 });
  assert.equal(parsePercentage(1.5).ok, false);
  assert.equal(parsePercentage('150%').ok, false);
  assert.equal(parsePercentage('half').ok, false);
});

// ------------------------------------------------------------------ meshmedic's extensions

test('extensions: namespace, serviceAccount, ports, versions with their own behaviour, latency distributions, timeouts and fallbacks', () => {
  const t = parseOk(`
defaults:
  namespace: shop
  latency: 1ms
services:
- name: web
  serviceAccount: web-sa
  ports:
  - {name: http-web, port: 80, targetPort: 8080, protocol: http}
  - {name: grpc, port: 9090, protocol: grpc}
  latency: {distribution: normal, mean: 10ms, stddev: 2ms, max: 50ms}
  script:
  - call: {service: api, port: 7000, path: /items, timeout: 250ms, attempts: 2, onError: fallback, fallback: no items}
  - call: {service: db, probability: 25%}
- name: api
  ports: [{port: 7000, protocol: http2}]
  errorRate: 1%
  versions:
  - name: v1
    replicas: 2
  - name: v2
    replicas: 1
    labels: {track: canary}
    errorRate: 50%
    responseSize: 1 KB
    latency: {distribution: lognormal, median: 5ms, sigma: 0.5}
    script:
    - sleep: {distribution: uniform, min: 1ms, max: 3ms}
    - sleep: {distribution: exponential, mean: 2ms}
- name: db
  ports: [{name: tcp-db, port: 5432, protocol: tcp}]
`);
  const web = svc(t, 'web');
  assert.deepEqual([web.namespace, web.serviceAccount], ['shop', 'web-sa']);
  assert.deepEqual(web.ports, [
    { name: 'http-web', port: 80, targetPort: 8080, protocol: 'http' },
    { name: 'grpc', port: 9090, targetPort: 9090, protocol: 'grpc' },
  ]);
  assert.deepEqual(web.versions[0].behaviour.latency, { distribution: 'normal', meanMs: 10, stddevMs: 2, capMs: 50 });
  const [toApi, toDb] = callsOf(web.versions[0].behaviour);
  assert.deepEqual(
    { ...toApi, line: 0 },
    { service: 'api', namespace: 'shop', port: 7000, protocol: 'http2', path: '/items', method: 'GET', size: 0, probability: 1, timeoutMs: 250, attempts: 2, onError: 'fallback', fallback: 'no items', line: 0 },
  );
  assert.deepEqual([toDb.port, toDb.protocol, toDb.probability], [5432, 'tcp', 0.25]);
  const api = svc(t, 'api');
  assert.deepEqual(api.ports, [{ name: 'http2', port: 7000, targetPort: 7000, protocol: 'http2' }]);
  const [v1, v2] = api.versions;
  assert.deepEqual([v1.name, v1.replicas, v1.labels, v1.behaviour.errorRate, v1.behaviour.latency], ['v1', 2, {}, 0.01, { distribution: 'fixed', ms: 1 }]);
  assert.deepEqual([v2.name, v2.replicas, v2.labels, v2.behaviour.errorRate, v2.behaviour.responseSize], ['v2', 1, { track: 'canary' }, 0.5, 1024]);
  assert.deepEqual(v2.behaviour.latency, { distribution: 'lognormal', medianMs: 5, sigma: 0.5 });
  assert.deepEqual(
    v2.behaviour.script.map((s) => s.kind === 'sleep' && s.latency),
    [
      { distribution: 'uniform', minMs: 1, maxMs: 3 },
      { distribution: 'exponential', meanMs: 2 },
    ],
  );
});

// ------------------------------------------------------------------ validation: file:line and field

const ERROR_CASES: Array<{ name: string; yaml: string; line: number; field: string; message: RegExp; code?: string }> = [
  { name: 'unknown field, with a suggestion', yaml: 'services:\n- name: a\n  scirpt: []\n', line: 3, field: 'services[0].scirpt', message: /unknown field "scirpt" \(did you mean "script"\?\)/ },
  { name: 'unknown top-level field', yaml: 'default: {}\nservices:\n- name: a\n', line: 1, field: 'default', message: /did you mean "defaults"/ },
  { name: 'call to an unknown service', yaml: 'services:\n- name: a\n  script:\n  - call: nope\n', line: 4, field: 'services[0].script[0].call', message: /cannot call undefined service "nope"/ },
  { name: 'call to an unknown service (mapping form)', yaml: 'services:\n- name: a\n  script:\n  - call:\n      service: nope\n', line: 5, field: 'services[0].script[0].call.service', message: /undefined service "nope"/ },
  { name: 'call cycle', yaml: 'services:\n- name: a\n  script:\n  - call: b\n- name: b\n  script:\n  - sleep: 1ms\n  - call: a\n', line: 8, field: 'services[1].script[1].call', message: /call cycle a -> b -> a/ },
  { name: 'a service calling itself', yaml: 'services:\n- name: a\n  script:\n  - call: a\n', line: 4, field: 'services[0].script[0].call', message: /call cycle a -> a/ },
  { name: 'cycle through a version', yaml: 'services:\n- name: a\n  script: [{call: b}]\n- name: b\n  versions:\n  - name: v1\n  - name: v2\n    script:\n    - call: a\n', line: 9, field: 'services[1].versions[1].script[0].call', message: /call cycle a -> b -> a/ },
  { name: 'duration without a unit', yaml: 'services:\n- name: a\n  script:\n  - sleep: 10\n', line: 4, field: 'services[0].script[0].sleep', message: /no unit/ },
  { name: 'duration that is not one', yaml: 'services:\n- name: a\n  script:\n  - sleep: soon\n', line: 4, field: 'services[0].script[0].sleep', message: /not a duration/ },
  { name: 'probability above 1', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, probability: 1.5}\n- name: b\n', line: 4, field: 'services[0].script[0].call.probability', message: /out of range/ },
  { name: 'probability above 100%', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, probability: 150%}\n- name: b\n', line: 4, field: 'services[0].script[0].call.probability', message: /more than 100%/ },
  { name: 'errorRate that is not a percentage', yaml: 'services:\n- name: a\n  errorRate: often\n', line: 3, field: 'services[0].errorRate', message: /not a percentage/ },
  { name: 'zero timeout', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, timeout: 0}\n- name: b\n', line: 4, field: 'services[0].script[0].call.timeout', message: /more than 0/ },
  { name: 'onError value', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, onError: ignore}\n- name: b\n', line: 4, field: 'services[0].script[0].call.onError', message: /propagate or fallback/ },
  { name: 'fallback with propagate', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, onError: propagate, fallback: x}\n- name: b\n', line: 4, field: 'services[0].script[0].call.fallback', message: /needs onError: fallback/ },
  { name: 'nested concurrency', yaml: 'services:\n- name: a\n  script:\n  - - - sleep: 1ms\n', line: 4, field: 'services[0].script[0][0]', message: /may not be nested/ },
  { name: 'two commands in one step', yaml: 'services:\n- name: a\n  script:\n  - sleep: 1ms\n    call: a\n', line: 4, field: 'services[0].script[0]', message: /exactly one command/ },
  { name: 'duplicate service', yaml: 'services:\n- name: a\n- name: b\n- name: a\n', line: 4, field: 'services[2].name', message: /already defined at line 2/ },
  { name: 'service name not a DNS label', yaml: 'services:\n- name: Front_End\n', line: 2, field: 'services[0].name', message: /not a DNS label/ },
  { name: 'missing name', yaml: 'services:\n- numReplicas: 2\n', line: 2, field: 'services[0]', message: /needs `name`/ },
  { name: 'unknown protocol', yaml: 'services:\n- name: a\n  ports: [{port: 80, protocol: udp}]\n', line: 3, field: 'services[0].ports[0].protocol', message: /protocol must be one of/ },
  { name: 'port reserved for the sidecar', yaml: 'services:\n- name: a\n  ports:\n  - port: 15001\n', line: 4, field: 'services[0].ports[0].port', message: /reserved for the sidecar/ },
  { name: 'call to a port the service lacks', yaml: 'services:\n- name: a\n  script:\n  - call: {service: b, port: 81}\n- name: b\n  ports: [{port: 80}]\n', line: 4, field: 'services[0].script[0].call.port', message: /has no port 81/ },
  { name: 'TCP port shared with another service', yaml: 'services:\n- name: a\n  ports: [{port: 6379, protocol: tcp}]\n- name: b\n  ports: [{port: 6379}]\n', line: 2, field: 'services[0].ports', message: /tcp port 6379 of a is also a port of b/ },
  { name: 'version label set by meshmedic', yaml: 'services:\n- name: a\n  versions:\n  - name: v1\n    labels: {app: x}\n', line: 5, field: 'services[0].versions[0].labels.app', message: /set from the service and version names/ },
  { name: 'duplicate version', yaml: 'services:\n- name: a\n  versions:\n  - name: v1\n  - name: v1\n', line: 5, field: 'services[0].versions[1].name', message: /appears twice/ },
  { name: 'unknown distribution', yaml: 'services:\n- name: a\n  latency: {distribution: gamma, mean: 1ms}\n', line: 3, field: 'services[0].latency.distribution', message: /one of fixed, uniform, normal, exponential, lognormal/ },
  { name: 'distribution missing a parameter', yaml: 'services:\n- name: a\n  latency:\n    distribution: normal\n    mean: 5ms\n', line: 4, field: 'services[0].latency.stddev', message: /normal distribution needs stddev/ },
  { name: 'parameter of another distribution', yaml: 'services:\n- name: a\n  latency: {distribution: exponential, mean: 1ms, stddev: 1ms}\n', line: 3, field: 'services[0].latency.stddev', message: /does not apply to a exponential distribution/ },
  { name: 'ambiguous service name', yaml: 'services:\n- name: a\n  namespace: x\n  script: [{call: b}]\n- name: b\n  namespace: y\n- name: b\n  namespace: z\n', line: 4, field: 'services[0].script[0].call', message: /several namespaces \(y, z\); write b.<namespace>/ },
  { name: 'not isotope kind', yaml: 'kind: Deployment\nservices:\n- name: a\n', line: 1, field: 'kind', message: /MockServiceGraph/ },
  { name: 'no services', yaml: 'defaults: {}\n', line: 1, field: 'services', message: /needs `services`/ },
  { name: 'YAML syntax', yaml: 'services:\n- name: a\n  script: [\n', line: 4, field: '', message: /./, code: 'E_YAML_PARSE' },
  { name: 'duplicate key', yaml: 'services:\n- name: a\n  name: b\n', line: 3, field: '', message: /twice/, code: 'E_YAML_PARSE' },
];

for (const c of ERROR_CASES) {
  test(`validation: ${c.name}`, () => {
    const r = parseTopology(c.yaml, 'bad.yaml');
    assert.equal(r.topology, undefined);
    const hit = r.errors.find((e) => (e.fieldPath ?? '') === c.field);
    assert.ok(hit, `an error on "${c.field}"; got ${r.errors.map((e) => e.format()).join(' | ')}`);
    assert.equal(hit.code, c.code ?? 'E_TOPOLOGY');
    assert.equal(hit.position?.file, 'bad.yaml');
    assert.equal(hit.position?.line, c.line, hit.format());
    assert.match(hit.message, c.message);
    if (c.field) assert.ok(hit.format().startsWith(`bad.yaml:${c.line}: ${c.field}: `), hit.format());
  });
}

test('every error in the file is reported at once; a file that does not exist is E_FILE_NOT_FOUND', () => {
  const r = parseTopology('services:\n- name: a\n  errorRate: 2\n  script:\n  - call: {service: a, attempts: 0}\n  - sleep: 5\n', 'many.yaml');
  assert.deepEqual(
    r.errors.map((e) => [e.position?.line, e.fieldPath]),
    [
      [3, 'services[0].errorRate'],
      [5, 'services[0].script[0].call.attempts'],
      [6, 'services[0].script[1].sleep'],
    ],
  );
  assert.throws(() => loadTopology('/nonexistent/topology.yaml'), (e: unknown) => e instanceof InputErrors && e.errors[0].code === 'E_FILE_NOT_FOUND');
});

// ------------------------------------------------------------------ shipped examples

test('examples/bookinfo/topology.yaml: Bookinfo services, versions, timeouts and fallbacks', () => {
  const { topology: t, warnings } = loadTopology(`${root}examples/bookinfo/topology.yaml`);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    t.services.map((s) => [s.name, s.namespace, s.serviceAccount, s.versions.map((v) => v.name).join(','), s.ports.map((p) => `${p.protocol}/${p.port}`).join()]),
    [
      ['productpage', 'bookinfo', 'bookinfo-productpage', 'v1', 'http/9080'],
      ['details', 'bookinfo', 'bookinfo-details', 'v1', 'http/9080'],
      ['reviews', 'bookinfo', 'bookinfo-reviews', 'v1,v2,v3', 'http/9080'],
      ['ratings', 'bookinfo', 'bookinfo-ratings', 'v1', 'http/9080'],
    ],
  );
  assert.deepEqual(edges(t), ['productpage->details', 'productpage->reviews', 'reviews->ratings']);
  const pp = callsOf(svc(t, 'productpage').versions[0].behaviour);
  assert.deepEqual(
    pp.map((c) => [c.service, c.path, c.timeoutMs, c.attempts, c.onError]),
    [
      ['details', '/details/0', 3000, 1, 'fallback'],
      ['reviews', '/reviews/0', 3000, 2, 'fallback'],
    ],
  );
  const reviews = svc(t, 'reviews').versions;
  assert.deepEqual(
    reviews.map((v) => callsOf(v.behaviour).map((c) => [c.service, c.timeoutMs, c.fallback])),
    [[], [['ratings', 10_000, 'Ratings service is currently unavailable']], [['ratings', 2500, 'Ratings service is currently unavailable']]],
  );
});

test('examples/boutique/topology.yaml: Online Boutique, 11 services and their edges', () => {
  const { topology: t } = loadTopology(`${root}examples/boutique/topology.yaml`);
  assert.equal(t.services.length, 11);
  assert.deepEqual(edges(t), [
    'cartservice->redis-cart',
    'checkoutservice->cartservice',
    'checkoutservice->currencyservice',
    'checkoutservice->emailservice',
    'checkoutservice->paymentservice',
    'checkoutservice->productcatalogservice',
    'checkoutservice->shippingservice',
    'frontend->adservice',
    'frontend->cartservice',
    'frontend->checkoutservice',
    'frontend->currencyservice',
    'frontend->productcatalogservice',
    'frontend->recommendationservice',
    'frontend->shippingservice',
    'recommendationservice->productcatalogservice',
  ]);
  assert.equal(svc(t, 'redis-cart').ports[0].protocol, 'tcp');
  assert.deepEqual(svc(t, 'frontend').ports[0], { name: 'http', port: 80, targetPort: 8080, protocol: 'http' });
  for (const s of t.services) if (!['frontend', 'redis-cart'].includes(s.name)) assert.equal(s.ports[0].protocol, 'grpc', s.name);
});

// ------------------------------------------------------------------ plan

test('planMesh: a Namespace and a Service per service, an instance per replica with its socket and spec', () => {
  const { topology: t } = loadTopology(`${root}examples/bookinfo/topology.yaml`);
  const asked: string[] = [];
  const plan = planMesh(t, { stateDir: '/tmp/mm-state', allocateAddress: (name, ns) => (asked.push(`${ns}/${name}`), `127.10.0.${asked.length}`) });
  assert.deepEqual(
    plan.resources.map((r) => `${r.kind} ${r.metadata.namespace ?? ''}/${r.metadata.name}`),
    ['Namespace /bookinfo', 'Service bookinfo/productpage', 'Service bookinfo/details', 'Service bookinfo/reviews', 'Service bookinfo/ratings'],
  );
  const reviews = plan.resources.find((r) => r.kind === 'Service' && r.metadata.name === 'reviews')!;
  assert.deepEqual(reviews.spec, { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP', appProtocol: 'http' }] });
  assert.equal(reviews.info.id, 'Service');
  assert.deepEqual([reviews.origin.file.endsWith('examples/bookinfo/topology.yaml'), reviews.origin.line], [true, svc(t, 'reviews').line]);
  assert.deepEqual(asked, ['bookinfo/productpage-v1-0', 'bookinfo/details-v1-0', 'bookinfo/reviews-v1-0', 'bookinfo/reviews-v2-0', 'bookinfo/reviews-v3-0', 'bookinfo/ratings-v1-0']);
  const { instance, spec } = plan.instances.find((i) => i.instance.name === 'reviews-v2-0')!;
  assert.deepEqual(instance, {
    name: 'reviews-v2-0',
    workload: 'reviews-v2',
    namespace: 'bookinfo',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews', version: 'v2' },
    address: '127.10.0.4',
    ports: [{ name: 'http', port: 9080, protocol: 'http', app: { socketPath: '/tmp/mm-state/sockets/bookinfo.reviews-v2-0.9080.sock' } }],
    healthy: true,
    source: 'topology',
  });
  assert.deepEqual(spec.script, [
    {
      kind: 'call',
      call: { service: 'ratings', namespace: 'bookinfo', authority: 'ratings:9080', port: 9080, protocol: 'http', path: '/ratings/0', method: 'GET', size: 0, probability: 1, timeoutMs: 10_000, attempts: 1, onError: 'fallback', fallback: 'Ratings service is currently unavailable' },
    },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, 'the spec is plain JSON');
});

test('planMesh: calls across namespaces name the namespace; very deep state dirs get hashed socket names', () => {
  const t = parseOk('services:\n- name: a\n  namespace: one\n  script: [{call: b}]\n- name: b\n  namespace: two\n');
  const deep = `/tmp/${'d'.repeat(70)}`;
  const plan = planMesh(t, { stateDir: deep, allocateAddress: () => '127.10.0.1' });
  const a = plan.instances.find((i) => i.spec.service === 'a')!.spec;
  assert.equal(a.script[0].kind === 'call' && a.script[0].call.authority, 'b.two:8080');
  for (const { spec } of plan.instances) assert.ok(Buffer.byteLength(spec.ports[0].socketPath) <= 107, spec.ports[0].socketPath);
  assert.deepEqual(
    plan.resources.filter((r) => r.kind === 'Namespace').map((r) => r.metadata.name),
    ['one', 'two'],
  );
});

// ------------------------------------------------------------------ serialization and the generator

test('serialize: a topology written as YAML parses back to the same topology', () => {
  const { topology: t } = loadTopology(`${root}examples/boutique/topology.yaml`);
  const yaml = topologyToYaml(t);
  const again = parseOk(yaml);
  assert.equal(topologyToYaml(again), yaml);
  assert.deepEqual(edges(again), edges(t));
});

test('generator: deterministic by seed, acyclic by layers, bounded fan-out, every service reachable', () => {
  const a = topologyToYaml(generateTopology({ services: 60, seed: 42, maxFanOut: 3, versionChance: 0.2 }));
  const b = topologyToYaml(generateTopology({ services: 60, seed: 42, maxFanOut: 3, versionChance: 0.2 }));
  const c = topologyToYaml(generateTopology({ services: 60, seed: 43, maxFanOut: 3, versionChance: 0.2 }));
  assert.equal(a, b);
  assert.notEqual(a, c);
  for (const seed of [1, 2, 3, 4, 5]) {
    const t = generateTopology({ services: 40, seed, maxFanOut: 2 });
    assert.equal(t.services.length, 40);
    // It parses (the parser rejects cycles) and reads back the same.
    const parsed = parseOk(topologyToYaml(t));
    assert.equal(topologyToYaml(parsed), topologyToYaml(t));
    const index = (name: string) => Number(name.slice(4));
    const reached = new Set(['svc-0']);
    for (const s of t.services) {
      const callees = new Set(s.versions.flatMap((v) => callsOf(v.behaviour).map((x) => x.service)));
      assert.ok(callees.size <= 2, `${s.name} calls ${callees.size} services`);
      for (const callee of callees) {
        assert.ok(index(callee) > index(s.name), `${s.name} -> ${callee} goes down the layers`);
        if (reached.has(s.name)) reached.add(callee);
      }
    }
    assert.equal(reached.size, 40, 'every service is reachable from the entrypoint');
    assert.deepEqual(t.services.filter((s) => s.isEntrypoint).map((s) => s.name), ['svc-0']);
  }
});
