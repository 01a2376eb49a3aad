import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Clock } from '../../src/proxy/clock.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../src/platform/local/faulty-upstream.js';
import { ManualClock } from '../support/manual-clock.js';

// The programmable upstream of issue 4, over real sockets on this file's /24 (127.10.230.0/24).
// Each header knob and each script knob, each with the case that must not happen.

const started: FaultyUpstream[] = [];
after(async () => {
  for (const u of started) await u.close();
});

async function upstream(last: number, extra: { name?: string; clock?: Clock } = {}): Promise<FaultyUpstream> {
  const u = await startFaultyUpstream({ host: `127.10.230.${last}`, ...extra });
  started.push(u);
  return u;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a fresh connection; rejects on any socket error, including mid-body. */
function send(u: FaultyUpstream, headers: Record<string, string> = {}, path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${u.url}${path}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(Object.assign(new Error('body aborted'), { partial: Buffer.concat(chunks), status: res.statusCode })));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statuses(u: FaultyUpstream, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(u, headers)).status);
  return out;
}

test('a plain request gets 200, names the upstream, and is recorded with the clock time', async () => {
  const clock = new ManualClock(1_000);
  const u = await upstream(1, { name: 'reviews-v1-0', clock });
  const r = await send(u, { 'x-trace': 'abc' }, '/ratings/1?x=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream-name'], 'reviews-v1-0');
  assert.equal(r.headers['x-upstream-request'], '1');
  assert.deepEqual(JSON.parse(r.body.toString()), { upstream: 'reviews-v1-0', request: 1, method: 'GET', path: '/ratings/1?x=1', status: 200 });
  assert.equal(u.requests, 1);
  assert.equal(u.hits[0].method, 'GET');
  assert.equal(u.hits[0].path, '/ratings/1?x=1');
  assert.equal(u.hits[0].headers['x-trace'], 'abc');
  assert.equal(u.hits[0].at, 1_000);
  assert.equal(u.url, `http://127.10.230.1:${u.port}`);
  assert.equal(u.address, '127.10.230.1');
});

test('two upstreams tell themselves apart; the default name is host:port', async () => {
  const a = await upstream(2, { name: 'a' });
  const b = await upstream(3);
  assert.equal((await send(a)).headers['x-upstream-name'], 'a');
  assert.equal((await send(b)).headers['x-upstream-name'], `127.10.230.3:${b.port}`);
});

test('x-upstream-status sets the status; without it the answer is 200', async () => {
  const u = await upstream(4);
  assert.equal((await send(u, { 'x-upstream-status': '503' })).status, 503);
  assert.equal((await send(u, { 'x-upstream-status': '409' })).status, 409);
  const noContent = await send(u, { 'x-upstream-status': '204' });
  assert.equal(noContent.status, 204);
  assert.equal(noContent.body.length, 0);
  assert.equal((await send(u)).status, 200);
});

test('a malformed knob is answered 400 with the reason, never silently ignored', async () => {
  const u = await upstream(4);
  const r = await send(u, { 'x-upstream-status': 'five-hundred' });
  assert.equal(r.status, 400);
  assert.match(String(r.headers['x-upstream-error']), /x-upstream-status must be a whole number/);
  assert.equal((await send(u, { 'x-upstream-reset': 'sometimes' })).status, 400);
});

test('x-upstream-delay-ms holds the answer until the injected clock fires', async () => {
  const clock = new ManualClock(1_000);
  const u = await upstream(5, { clock });
  let answered = false;
  const pending = send(u, { 'x-upstream-delay-ms': '250' }).then((r) => ((answered = true), r));
  await clock.untilPending();
  assert.deepEqual(clock.scheduled, [250]);
  assert.equal(answered, false); // the timer has not fired, so no answer can exist yet
  clock.fireNext();
  const r = await pending;
  assert.equal(r.status, 200);
  // Without the header no timer is asked for.
  await send(u);
  assert.deepEqual(clock.scheduled, [250]);
});

test('x-upstream-reset: before-headers gives the client a socket error and no answer', async () => {
  const u = await upstream(6);
  await assert.rejects(send(u, { 'x-upstream-reset': 'before-headers' }), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' || /socket hang up/.test(e.message));
  assert.equal(u.requests, 1); // it reached the upstream: a reset, not a refused connection
  assert.equal((await send(u)).status, 200); // the next request is fine
});

test('x-upstream-reset: after-headers gives the headers and a truncated body', async () => {
  const u = await upstream(6);
  const err = await send(u, { 'x-upstream-reset': 'after-headers', 'x-upstream-body-bytes': '1000' }).then(
    () => assert.fail('the body must not complete'),
    (e: Error & { partial?: Buffer; status?: number }) => e,
  );
  assert.equal(err.status, 200); // headers arrived
  assert.ok(err.partial !== undefined && err.partial.length < 1000, `truncated body, got ${err.partial?.length} bytes`);
});

test('x-upstream-close: true answers then closes the connection; without it the connection is reused', async () => {
  const u = await upstream(7);
  const raw = (reqs: string[]) =>
    new Promise<{ text: string; ended: boolean }>((resolve, reject) => {
      const s = connect(u.port, u.address, () => s.write(reqs.join('')));
      let text = '';
      s.on('data', (d) => {
        text += d.toString();
        // Two complete answers on a kept-alive connection: done, close from our side.
        if (!reqs[0].includes('x-upstream-close') && (text.match(/HTTP\/1\.1 200/g) ?? []).length === reqs.length && text.endsWith('}\n')) {
          s.destroy();
          resolve({ text, ended: false });
        }
      });
      s.on('end', () => resolve({ text, ended: true }));
      s.on('error', reject);
    });
  const get = (extra = '') => `GET / HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;
  const closed = await raw([get('x-upstream-close: true\r\n'), get()]);
  assert.equal(closed.ended, true);
  assert.equal((closed.text.match(/HTTP\/1\.1 200/g) ?? []).length, 1); // the second request was never answered
  assert.match(closed.text, /connection: close/i);
  const kept = await raw([get(), get()]);
  assert.equal(kept.ended, false);
  assert.equal((kept.text.match(/HTTP\/1\.1 200/g) ?? []).length, 2);
});

test('x-upstream-body-bytes sets the body length exactly', async () => {
  const u = await upstream(8);
  const big = await send(u, { 'x-upstream-body-bytes': '200000' });
  assert.equal(big.body.length, 200_000);
  assert.equal(big.headers['content-length'], '200000');
  assert.equal((await send(u, { 'x-upstream-body-bytes': '0' })).body.length, 0);
});

test('x-upstream-grpc-status gives a trailers-only gRPC answer; HTTP status stays 200', async () => {
  const u = await upstream(9);
  const r = await send(u, { 'x-upstream-grpc-status': '14' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/grpc');
  assert.equal(r.headers['grpc-status'], '14');
  assert.equal((await send(u)).headers['grpc-status'], undefined);
});

test('script failNext 2 fails exactly two requests, then headers rule again', async () => {
  const u = await upstream(10);
  u.script({ failNext: 2, status: 503 });
  assert.deepEqual(await statuses(u, 4, { 'x-upstream-status': '201' }), [503, 503, 201, 201]);
  u.script({ failNext: 1 }); // default status 503, and a new script restarts the count
  assert.deepEqual(await statuses(u, 2), [503, 200]);
});

test('script failPercent: 0 never fails, 100 always fails, a seed repeats the same requests', async () => {
  const u = await upstream(11);
  u.script({ failPercent: 0, status: 500 });
  assert.ok((await statuses(u, 100)).every((s) => s === 200));
  u.script({ failPercent: 100, status: 500 });
  assert.ok((await statuses(u, 20)).every((s) => s === 500));
  u.script({ failPercent: 30, status: 502, seed: 7 });
  const first = await statuses(u, 100);
  u.script({ failPercent: 30, status: 502, seed: 7 });
  const again = await statuses(u, 100);
  assert.deepEqual(again, first);
  const failed = first.filter((s) => s === 502).length;
  assert.ok(failed > 0 && failed < 100, `a share fails, got ${failed}`);
  u.script({ failPercent: 30, status: 502, seed: 8 });
  assert.notDeepEqual(await statuses(u, 100), first); // another seed, another pattern
});

test('script resetNext resets exactly n requests, before or after headers', async () => {
  const u = await upstream(12);
  u.script({ resetNext: 2 });
  await assert.rejects(send(u));
  await assert.rejects(send(u));
  assert.equal((await send(u)).status, 200);
  u.script({ resetNext: 1, when: 'after-headers' });
  const err = await send(u).then(
    () => assert.fail('must be truncated'),
    (e: Error & { status?: number }) => e,
  );
  assert.equal(err.status, 200);
  assert.equal((await send(u)).status, 200);
  assert.equal(u.requests, 5);
});

test('script delayMs delays every request on the clock and overrides the header; {} clears it', async () => {
  const clock = new ManualClock(1_000);
  const u = await upstream(13, { clock });
  u.script({ delayMs: 40 });
  for (const headers of [{}, { 'x-upstream-delay-ms': '5000' }] as Array<Record<string, string>>) {
    const pending = send(u, headers);
    await clock.untilPending();
    clock.fireNext();
    assert.equal((await pending).status, 200);
  }
  assert.deepEqual(clock.scheduled, [40, 40]);
  u.script({});
  await send(u);
  assert.deepEqual(clock.scheduled, [40, 40]); // no script, no header: no delay
});

test('a bad script is refused with a RangeError and the old script stays', async () => {
  const u = await upstream(14);
  u.script({ failNext: 1 });
  assert.throws(() => u.script({ failPercent: 150 }), RangeError);
  assert.throws(() => u.script({ failNext: -1 }), RangeError);
  assert.throws(() => u.script({ status: 42 }), RangeError);
  assert.deepEqual(await statuses(u, 2), [503, 200]);
});

test('close() ends delayed requests, clears their timers and frees the port', async () => {
  const clock = new ManualClock(1_000);
  const u = await startFaultyUpstream({ host: '127.10.230.15', clock });
  const pending = send(u, { 'x-upstream-delay-ms': '1000' });
  await clock.untilPending();
  await u.close();
  await assert.rejects(pending);
  assert.equal(clock.pending, 0);
  const same = await startFaultyUpstream({ host: '127.10.230.15', port: u.port });
  started.push(same);
  assert.equal(same.port, u.port);
});
