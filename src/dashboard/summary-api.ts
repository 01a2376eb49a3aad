import type { IncomingMessage, ServerResponse } from 'node:http';
import { namespaceOf, type Resource } from '../api/resource.js';
import type { Message } from '../config/analysis/message.js';
import { DEFAULT_ANALYZERS } from '../config/analysis/registry.js';
import { runAnalyzers } from '../config/analysis/runner.js';
import { defaultMeshConfig, defaultMeshNetworks } from '../config/mesh.js';
import { sendJson } from '../controlplane/http-json.js';
import type { ServiceRegistry } from '../controlplane/registry.js';
import type { ConfigStore } from '../config/store.js';

// What the dashboard needs that the rest of the API does not give in one call:
//
//   GET /api/v1/dashboard/summary   the seed's counts: services discovered, endpoints monitored,
//                                   security policies in force (Peer/Authz/RequestAuthentication)
//   GET /api/v1/dashboard/config    every resource in the store with its analysis messages
//                                   (istioctl analyze's IST codes) and the field each points at

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
export type DashboardRoute = [method: string, pattern: RegExp, handler: Handler];

export interface SummaryDeps {
  store: ConfigStore;
  registry: ServiceRegistry;
}

const SECURITY_KINDS = new Set(['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication']);
/** Analyzers that read runtime kinds the store does not hold (Pods, Secrets) are skipped, as istioctl does offline. */
const RUNTIME_KINDS = new Set<string>(['Pod', 'Secret']);

export function dashboardRoutes(deps: SummaryDeps): DashboardRoute[] {
  return [
    ['GET', /^\/api\/v1\/dashboard\/summary$/, (_req, res) => sendJson(res, 200, summary(deps))],
    ['GET', /^\/api\/v1\/dashboard\/config$/, (_req, res) => sendJson(res, 200, { items: configWithMessages(deps.store.all()) })],
  ];
}

function summary(deps: SummaryDeps) {
  const instances = deps.registry.instances();
  const resources = deps.store.all();
  const policies = resources.filter((r) => SECURITY_KINDS.has(r.info.kind));
  const byKind: Record<string, number> = {};
  for (const r of policies) byKind[r.info.kind] = (byKind[r.info.kind] ?? 0) + 1;
  return {
    servicesDiscovered: deps.registry.services().length,
    endpointsMonitored: instances.length,
    endpointsHealthy: instances.filter((i) => i.healthy).length,
    securityPolicies: policies.length,
    securityPoliciesByKind: byKind,
    resources: resources.length,
    configVersion: deps.store.version,
  };
}

const refOf = (r: Resource) => `${r.info.kind}/${namespaceOf(r)}/${r.metadata.name}`;

function configWithMessages(resources: Resource[]) {
  const present = new Set(resources.map((r) => r.info.id as string));
  const runnable = DEFAULT_ANALYZERS.filter((a) => a.inputs.every((k) => !RUNTIME_KINDS.has(k) || present.has(k)));
  const { messages } = runAnalyzers(resources, runnable, { meshConfig: defaultMeshConfig(), meshNetworks: defaultMeshNetworks(), namespace: '' });
  const byResource = new Map<string, Message[]>();
  for (const m of messages) {
    const key = m.resource ? refOf(m.resource) : '';
    byResource.set(key, [...(byResource.get(key) ?? []), m]);
  }
  const plain = (m: Message) => ({ code: m.code, name: m.name, level: m.level, text: m.text, field: m.fieldPath?.join('.') ?? null, line: m.line ?? null });
  return resources.map((r) => ({
    kind: r.info.kind,
    namespace: namespaceOf(r),
    name: r.metadata.name,
    origin: { file: r.origin.file, line: r.origin.line },
    raw: r.raw,
    messages: (byResource.get(refOf(r)) ?? []).map(plain),
  }));
}
