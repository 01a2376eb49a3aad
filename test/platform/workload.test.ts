import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, createServer, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTopology, parseTopology } from '../../src/platform/local/topology/parse.js';
import { planMesh } from '../../src/platform/local/topology/plan.js';
import type { WorkloadSpec } from '../../src/platform/local/workload/spec.js';
import { startWorkload } from '../../src/platform/local/workload/workload.js';

// Real workload processes on unix sockets. A small forwarding proxy written here stands in for
// the sidecars: it takes the absolute-form requests the workloads send to MESH_OUTBOUND_PROXY
// and passes them to the socket of the named service, recording what it saw.

const ADDR = '127.10.231.1'; // this file's /24
const PROXY = `http://${ADDR}:15001`;
const MAIN = new URL('../../src/platform/local/workload/main.js', import.meta.url).pathname;

const TOPOLOGY = `
defaults:
  namespace: wl
  ports: [{name: http, port: 9080, protocol: http}]
services:
- name: front
  script:
  - sleep: 30ms
  - call: {service: leaf, path: /leaf/1}
  - call: mid
- name: mid
  script:
  - - call: {service: leaf, path: /a}
    - call: {service: leaf, path: /b}
    - sleep: 1ms
- name: leaf
  responseSize: 100
- name: never
  script:
  - call: {service: leaf, path: /from-never, probability: 0}
- name: broken
  errorRate: 1
- name: propagate
  script:
  - call: {service: broken, path: /from-propagate}
  - call: {service: leaf, path: /after-failure}
- name: degrade
  script:
  - call: {service: broken, fallback: broken is down}
  - call: {service: leaf, path: /after-fallback}
- name: retrier
  script:
  - call: {service: broken, path: /retry, attempts: 3, fallback: gave up}
- name: slowcaller
  script:
  - call: {service: slow, timeout: 50ms, fallback: too slow}
- name: slow
  latency: 20s
- name: grpcish
  ports: [{name: grpc, port: 7070, protocol: grpc}]
  errorRate: 100%
- name: grpcok
  ports: [{name: grpc, port: 7071, protocol: grpc}]
- name: grpccaller
  script:
  - call: {service: grpcish, fallback: no grpc}
  - call: grpcok
- name: tcpclient
  script:
  - call: redis
- name: redis
  ports: [{name: tcp-redis, port: 6379, protocol: tcp}]
`;

const dir = mkdtempSync(join(tmpdir(), 'mm-wl-'));
const children: ChildProcess[] = [];
const sockets = new Map<string, string[]>(); // `service:port` -> socket paths of its instances, taken in turn
const turn = new Map<string, number>();
const socketOf = (key: string) => {
  const all = sockets.get(key) ?? [];
  const i = turn.get(key) ?? 0;
  turn.set(key, i + 1);
  return all[i % all.length];
};
const workloads = new Map<string, ChildProcess>(); // instance -> process
const specs = new Map<string, WorkloadSpec>(); // service -> spec
const seen: Array<{ service: string; path: string; absoluteForm: boolean; host?: string; headers: IncomingHttpHeaders }> = [];
let proxy: Server;
let tcpForwarder: NetServer;
const tcpConns = new Set<Socket>();
const agent = new Agent({ keepAlive: true });

/** `/a` and `/b` are held until both have arrived: only concurrent calls can get past. */
const barrier = new Set<string>();
const barrierWaiters: Array<() => void> = [];

function startProxy(): Promise<void> {
  proxy = createServer((req, res) => {
    const absoluteForm = /^http:\/\//.test(req.url ?? '');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const service = url.hostname.split('.')[0];
    const socketPath = socketOf(`${service}:${url.port}`);
    seen.push({ service, path: url.pathname, absoluteForm, host: req.headers.host, headers: req.headers });
    const forward = () => {
      if (!socketPath) {
        res.writeHead(503).end('no such service');
        return;
      }
      const up = httpRequest({ socketPath, agent, method: req.method, path: url.pathname + url.search, headers: req.headers }, (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      });
      up.on('error', () => res.writeHead(503).end('upstream failed'));
      req.pipe(up);
    };
    if (url.pathname === '/a' || url.pathname === '/b') {
      barrier.add(url.pathname);
      if (barrier.size === 2) {
        forward();
        barrierWaiters.splice(0).forEach((w) => w());
        barrier.clear();
      } else barrierWaiters.push(forward);
    } else forward();
  });
  proxy.listen(15001, ADDR);
  // The sidecar's outbound TCP listener for the redis service port.
  tcpForwarder = createNetServer((down) => {
    tcpConns.add(down);
    const up = netConnect(socketOf('redis:6379'));
    tcpConns.add(up);
    down.pipe(up).pipe(down);
    const drop = () => (down.destroy(), up.destroy());
    down.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
  });
  tcpForwarder.listen(6379, ADDR);
  return Promise.all([once(proxy, 'listening'), once(tcpForwarder, 'listening')]).then(() => undefined);
}

function spawnWorkload(spec: WorkloadSpec): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, MESH_WORKLOAD_SPEC: JSON.stringify(spec), MESH_OUTBOUND_PROXY: PROXY }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  workloads.set(spec.instance, child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('"listening"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`workload ${spec.instance} exited with ${code} before listening`)));
  });
}

before(async () => {
  const parsed = parseTopology(TOPOLOGY, 'workload-test.yaml');
  assert.deepEqual(parsed.errors.map((e) => e.format()), []);
  const bookinfo = loadTopology(new URL('../../../examples/bookinfo/topology.yaml', import.meta.url).pathname).topology;
  const plans = [parsed.topology!, bookinfo].map((t) => planMesh(t, { stateDir: dir, allocateAddress: () => ADDR }));
  const instances = plans.flatMap((p) => p.instances);
  for (const { spec } of instances) {
    specs.set(spec.service, spec);
    for (const p of spec.ports) sockets.set(`${spec.service}:${p.port}`, [...(sockets.get(`${spec.service}:${p.port}`) ?? []), p.socketPath]);
  }
  await startProxy();
  await Promise.all(instances.map(({ spec }) => spawnWorkload(spec)));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  for (const s of tcpConns) s.destroy();
  agent.destroy();
  proxy?.closeAllConnections();
  await Promise.all([new Promise((r) => proxy?.close(r)), new Promise((r) => tcpForwarder?.close(r))]);
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A request straight to a workload's socket, as its own sidecar's inbound side would send it. */
function get(service: string, port = 9080, path = '/', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: sockets.get(`${service}:${port}`)![0], agent, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const count = (path: string) => seen.filter((s) => s.path === path).length;

test('a script runs its steps: sleep, sequential calls, a concurrent group; the answer names who answered and nests the calls', { timeout: 10_000 }, async () => {
  const started = performance.now();
  const r = await get('front');
  assert.ok(performance.now() - started >= 28, 'the 30ms sleep ran'); // a lower bound only: never flaky
  assert.equal(r.status, 200);
  assert.equal(r.body.service, 'front');
  assert.equal(r.body.version, 'v1');
  assert.equal(r.body.instance, 'front-v1-0');
  assert.equal(r.body.namespace, 'wl');
  assert.deepEqual(r.body.calls.map((c: any) => [c.service, c.authority, c.status]), [['leaf', 'leaf:9080', 200], ['mid', 'mid:9080', 200]]);
  // mid's two calls to leaf only get answers when both are in flight at once (the proxy holds each until the other arrives).
  assert.deepEqual(r.body.calls[1].body.calls.map((c: any) => [c.service, c.status]), [['leaf', 200], ['leaf', 200]]);
  assert.equal(r.body.calls[0].body.instance, 'leaf-v1-0');
  assert.equal('padding' in r.body.calls[0].body, false, 'a callee padding is not copied into the caller answer');
  const leafCall = seen.find((s) => s.path === '/leaf/1')!;
  assert.equal(leafCall.absoluteForm, true, 'calls are absolute-form requests to the proxy');
  assert.equal(leafCall.host, 'leaf:9080');
});

test('responseSize pads the answer; /healthz answers 200 without running the script', async () => {
  const r = await get('leaf');
  assert.equal(r.body.padding.length, 100);
  const before = count('/leaf/1');
  const h = await get('front', 9080, '/healthz');
  assert.equal(h.status, 200);
  assert.equal(count('/leaf/1'), before);
});

test('trace and user headers of the request are forwarded to every call, across hops', { timeout: 10_000 }, async () => {
  const trace = {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'vendor=1',
    'x-request-id': 'req-42',
    'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
    'x-b3-spanid': 'e457b5a2e4d86bd1',
    'x-b3-sampled': '1',
    b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
    'end-user': 'jason',
  };
  seen.length = 0;
  await get('front', 9080, '/', { ...trace, 'x-not-forwarded': 'secret' });
  assert.equal(seen.length, 4); // leaf, mid, and mid's two calls to leaf
  for (const s of seen) {
    for (const [k, v] of Object.entries(trace)) assert.equal(s.headers[k], v, `${k} on the call to ${s.service}${s.path}`);
    assert.equal(s.headers['x-not-forwarded'], undefined);
  }
});

test('probability 0 never calls', async () => {
  for (let i = 0; i < 20; i++) {
    const r = await get('never');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.calls, []);
  }
  assert.equal(count('/from-never'), 0);
});

test('errorRate 1 always answers 500', async () => {
  for (let i = 0; i < 10; i++) {
    const r = await get('broken');
    assert.equal(r.status, 500);
    assert.match(r.body.error, /simulated failure/);
  }
});

test('onError propagate: the caller fails naming the failed call, and its script stops there', async () => {
  const r = await get('propagate');
  assert.equal(r.status, 502);
  assert.equal(r.body.failedCall, 'broken');
  assert.match(r.body.error, /call to broken failed: status 500/);
  assert.equal(r.body.calls.length, 1);
  assert.equal(count('/after-failure'), 0);
});

test('onError fallback: the caller answers anyway, with the fallback in place of the failed call', async () => {
  const r = await get('degrade');
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.calls.map((c: any) => [c.service, c.status, c.fallback]),
    [
      ['broken', 500, 'broken is down'],
      ['leaf', 200, undefined],
    ],
  );
  assert.equal(count('/after-fallback'), 1);
});

test('attempts: a failing call is tried that many times', async () => {
  const r = await get('retrier');
  assert.equal(r.status, 200);
  assert.equal(r.body.calls[0].attempts, 3);
  assert.equal(count('/retry'), 3);
});

test('a call timeout gives up on a slow callee and takes the fallback', async () => {
  const r = await get('slowcaller');
  assert.equal(r.status, 200);
  assert.equal(r.body.calls[0].timedOut, true);
  assert.equal(r.body.calls[0].fallback, 'too slow');
});

test('grpc ports answer with gRPC-style status over HTTP/1.1 and h2c, and callers read it', async () => {
  const bad = await get('grpcish', 7070);
  assert.equal(bad.status, 200);
  assert.equal(bad.headers['grpc-status'], '13');
  const caller = await get('grpccaller');
  assert.equal(caller.status, 200);
  assert.deepEqual(
    caller.body.calls.map((c: any) => [c.service, c.grpcStatus, c.fallback ?? null]),
    [
      ['grpcish', '13', 'no grpc'],
      ['grpcok', '0', null],
    ],
  );
  const session = h2connect('http://grpcok', { createConnection: () => netConnect(sockets.get('grpcok:7071')![0]) });
  try {
    const stream = session.request({ ':path': '/', ':method': 'GET' });
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
    let text = '';
    stream.setEncoding('utf8').on('data', (d: string) => (text += d));
    await once(stream, 'end');
    assert.equal(headers[':status'], 200);
    assert.equal(headers['grpc-status'], '0');
    assert.equal(JSON.parse(text).service, 'grpcok');
  } finally {
    session.close();
  }
});

test('tcp: a call to a TCP service goes to the sidecar address at the service port', async () => {
  const r = await get('tcpclient');
  assert.equal(r.status, 200);
  assert.equal(r.body.calls[0].service, 'redis');
  assert.equal(r.body.calls[0].body.instance, 'redis-v1-0');
});

test('Bookinfo: the productpage answer is the page assembled from details, reviews and (v2, v3) ratings', async () => {
  const versions = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const r = await get('productpage', 9080, '/productpage');
    assert.equal(r.status, 200);
    const [details, reviews] = r.body.calls;
    assert.deepEqual([details.service, details.status, details.body.service], ['details', 200, 'details']);
    assert.deepEqual([reviews.service, reviews.status, reviews.body.service], ['reviews', 200, 'reviews']);
    versions.add(reviews.body.version);
    const ratings = reviews.body.calls;
    if (reviews.body.version === 'v1') assert.deepEqual(ratings, []);
    else assert.deepEqual(ratings.map((c: any) => [c.service, c.status, c.body.service]), [['ratings', 200, 'ratings']]);
  }
  assert.deepEqual([...versions].sort(), ['v1', 'v2', 'v3']); // the stand-in proxy takes the three in turn
  assert.equal(seen.find((s) => s.path === '/reviews/0')?.host, 'reviews:9080');
});

test('Bookinfo: with ratings down, reviews v2/v3 answer without stars and the page still renders', async () => {
  const ratings = workloads.get('ratings-v1-0')!;
  const exited = once(ratings, 'exit');
  ratings.kill('SIGKILL');
  await exited;
  for (let i = 0; i < 3; i++) {
    const r = await get('productpage', 9080, '/productpage');
    assert.equal(r.status, 200);
    const reviews = r.body.calls[1];
    assert.equal(reviews.status, 200);
    if (reviews.body.version !== 'v1') {
      assert.deepEqual(
        reviews.body.calls.map((c: any) => [c.service, c.status, c.fallback]),
        [['ratings', 503, 'Ratings service is currently unavailable']],
      );
    }
  }
});

test('SIGTERM closes the workload and it exits 0', async () => {
  const spec: WorkloadSpec = { ...specs.get('leaf')!, instance: 'leaf-v1-9', ports: [{ name: 'http', port: 9080, protocol: 'http', socketPath: join(dir, 'sockets', 'term.sock') }] };
  const child = await spawnWorkload(spec);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});

test('startWorkload runs a workload in-process and close() stops it', async () => {
  const socketPath = join(dir, 'sockets', 'inproc.sock');
  const w = await startWorkload({ ...specs.get('leaf')!, instance: 'leaf-v1-8', ports: [{ name: 'http', port: 9080, protocol: 'http', socketPath }] }, { outboundProxy: PROXY });
  try {
    const r = await new Promise<number>((resolve, reject) => {
      httpRequest({ socketPath, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(r, 200);
  } finally {
    await w.close();
  }
});
