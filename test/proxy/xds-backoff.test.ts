import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import type { ProxySnapshot } from '../../src/api/snapshot.js';
import { XdsClient } from '../../src/proxy/xds-client.js';
import type { ApplyResult } from '../../src/proxy/sidecar.js';
import { ManualClock } from '../support/manual-clock.js';

// The xDS client's reconnect schedule, driven by an injected clock: capped exponential backoff
// while the control plane is unreachable (real refused connections), reset once a push arrives.

const CP = { address: '127.10.226.2', port: 15010 };

describe('xds client backoff', { timeout: 60_000 }, () => {
  test('refused connections back off 100, 200, 400 ... capped at 2000 ms; a push resets the backoff', async () => {
    const clock = new ManualClock();
    const applied: string[] = [];
    const target = {
      snapshot: null as ProxySnapshot | null,
      applySnapshot(s: ProxySnapshot): ApplyResult {
        applied.push(s.version);
        return { ok: true };
      },
    };
    const client = new XdsClient({ baseUrl: `http://${CP.address}:${CP.port}`, nodeId: 'n.ns', target, clock });
    client.start();
    for (let i = 0; i < 7; i++) await clock.fireNext();
    assert.deepEqual(clock.scheduled.slice(0, 7), [100, 200, 400, 800, 1600, 2000, 2000]);

    // A control plane appears: the next attempt connects and gets a push.
    const streams: ServerResponse[] = [];
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/xds/v1/stream')) {
        res.writeHead(200);
        streams.push(res);
        res.write(JSON.stringify({ type: 'snapshot', nonce: 'n1', snapshot: { version: 'v1' } }) + '\n');
      } else res.end();
    });
    await new Promise<void>((r) => server.listen(CP.port, CP.address, r));
    try {
      // Attempts go on (each timer fired by hand) until one is answered.
      while (applied.length === 0) {
        if (clock.pending > 0) await clock.fireNext();
        else await new Promise((r) => setImmediate(r));
      }
      const delaysBefore = clock.scheduled.length;
      assert.deepEqual(applied, ['v1']);
      assert.equal(client.status().connected, true);
      // The stream drops: the next delay starts over from the initial backoff.
      for (const s of streams) s.destroy();
      while (clock.scheduled.length === delaysBefore) await new Promise((r) => setImmediate(r));
      assert.equal(clock.scheduled.at(-1), 100);
    } finally {
      client.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
