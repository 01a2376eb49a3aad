import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MeshmedicError } from '../api/errors.js';

// MeshConfig and MeshNetworks: the mesh-wide settings istiod reads from its ConfigMap.
// Kept as plain objects (Istio's proto JSON field names); analyzers read the fields they need.

export type MeshConfig = Record<string, any>;
export type MeshNetworks = { networks?: Record<string, any> } & Record<string, any>;

/** The defaults of Istio's `mesh.DefaultMeshConfig()` that meshmedic's analyzers and mesh read. */
export function defaultMeshConfig(): MeshConfig {
  return {
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    ingressClass: 'istio',
    ingressService: 'istio-ingressgateway',
    ingressControllerMode: 'STRICT',
    enableAutoMtls: true,
    enableTracing: true,
    accessLogFile: '',
    connectTimeout: '10s',
    protocolDetectionTimeout: '0s',
    outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    localityLbSetting: { enabled: true },
    dnsRefreshRate: '60s',
    defaultServiceExportTo: ['*'],
    defaultVirtualServiceExportTo: ['*'],
    defaultDestinationRuleExportTo: ['*'],
    extensionProviders: [
      { name: 'prometheus', prometheus: {} },
      { name: 'stackdriver', stackdriver: {} },
      { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
    ],
    defaultProviders: { metrics: ['prometheus'] },
    defaultConfig: {
      configPath: './etc/istio/proxy',
      binaryPath: '/usr/local/bin/envoy',
      serviceCluster: 'istio-proxy',
      drainDuration: '45s',
      terminationDrainDuration: '5s',
      proxyAdminPort: 15000,
      controlPlaneAuthPolicy: 'MUTUAL_TLS',
      discoveryAddress: 'istiod.istio-system.svc:15012',
      statNameLength: 189,
      statusPort: 15020,
      tracing: { zipkin: { address: 'zipkin.istio-system:9411' } },
      proxyMetadata: {},
    },
  };
}

export function defaultMeshNetworks(): MeshNetworks {
  return { networks: {} };
}

/** Merge a user's mesh config over the defaults, as proto merging does: objects merge, lists and scalars replace. */
export function mergeMesh<T extends Record<string, any>>(base: T, over: Record<string, any>): T {
  const out: Record<string, any> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const cur = out[key];
    out[key] = isPlainObject(cur) && isPlainObject(value) ? mergeMesh(cur, value) : value;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYamlObject(file: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new MeshmedicError('E_FILE_NOT_FOUND', `cannot read mesh file`, { file, line: 0 });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    const line = (e as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line ?? 0;
    throw new MeshmedicError('E_YAML_PARSE', (e as Error).message.split('\n')[0], { file, line });
  }
  if (value == null) return {};
  if (!isPlainObject(value)) throw new MeshmedicError('E_MESH_CONFIG', 'expected a mapping', { file, line: 1 });
  // A ConfigMap (`istio` in istio-system) carries the mesh config as text under data.mesh.
  if (value.kind === 'ConfigMap' && typeof value.data?.mesh === 'string') return (parse(value.data.mesh) ?? {}) as Record<string, any>;
  return value;
}

export function loadMeshConfigFile(file: string): MeshConfig {
  return mergeMesh(defaultMeshConfig(), readYamlObject(file));
}

export function loadMeshNetworksFile(file: string): MeshNetworks {
  const v = readYamlObject(file);
  if (v.kind === 'ConfigMap' && typeof v.data?.meshNetworks === 'string') return parse(v.data.meshNetworks) as MeshNetworks;
  return { networks: {}, ...v };
}
