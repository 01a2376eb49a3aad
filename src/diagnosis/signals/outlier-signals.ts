import { request } from 'node:http';
import { PROXY_ADMIN_PORT, type WorkloadInstance } from '../../api/snapshot.js';
import type { OutlierEvent } from '../../proxy/upstream/outlier-events.js';
import type { OutlierEventSignal } from './snapshot.js';
import { parseServiceHost } from './traffic-rows.js';

// Outlier ejections as the sidecars saw them: each sidecar keeps its last ejections and returns
// at its admin endpoint (`/outlier_events`, Envoy's outlier event log). Asked only when a
// diagnosis runs, with a short timeout: a sidecar that does not answer is noted and skipped.

export interface OutlierFetchResult {
  events: OutlierEventSignal[];
  unreachable: string[];
}

export async function fetchOutlierEvents(instances: readonly WorkloadInstance[], sinceMs: number, timeoutMs = 500): Promise<OutlierFetchResult> {
  const events: OutlierEventSignal[] = [];
  const unreachable: string[] = [];
  await Promise.all(
    instances
      .filter((i) => i.source !== 'workloadentry')
      .map(async (i) => {
        const body = await getJson(i.address, PROXY_ADMIN_PORT, '/outlier_events', timeoutMs);
        if (!body) return void unreachable.push(`${i.name}.${i.namespace}`);
        for (const e of (body as { events?: OutlierEvent[] }).events ?? []) {
          if (!(e.time >= sinceMs)) continue;
          const host = e.cluster.split('|')[3] ?? '';
          events.push({
            at: e.time,
            kind: e.kind,
            instance: e.instance,
            namespace: parseServiceHost(host)?.namespace ?? i.namespace,
            reportedBy: `${i.name}.${i.namespace}`,
            cluster: e.cluster,
            host,
            reason: e.reason,
          });
        }
      }),
  );
  events.sort((a, b) => a.at - b.at || (a.instance < b.instance ? -1 : 1));
  return { events, unreachable: unreachable.sort() };
}

function getJson(host: string, port: number, path: string, timeoutMs: number): Promise<unknown | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
