import { stringify } from 'yaml';

// A synthetic mesh for benchmarks: namespaces of services, each with a Service, a Deployment,
// Pods, a VirtualService and a DestinationRule, plus per-namespace policies. Some mistakes are
// planted on purpose, so the benchmark also checks that analysis finds them.

export interface GeneratedMesh {
  files: Array<{ name: string; text: string }>;
  resources: number;
  planted: Record<string, number>; // code -> how many were planted
}

const PER_SERVICE = 6; // Service, Deployment, 2 Pods, VirtualService, DestinationRule
const PER_NAMESPACE = 3; // Namespace, PeerAuthentication, AuthorizationPolicy
const SERVICES_PER_NAMESPACE = 40;

export function generateMesh(target = 10_000): GeneratedMesh {
  const namespaces = Math.max(1, Math.round(target / (SERVICES_PER_NAMESPACE * PER_SERVICE + PER_NAMESPACE)));
  const perNs = namespaces * PER_NAMESPACE;
  const services = Math.max(1, Math.floor((target - perNs) / PER_SERVICE));
  const planted: Record<string, number> = { IST0101: 0, IST0118: 0, IST0173: 0, IST0144: 0 };
  const files: GeneratedMesh['files'] = [];
  let count = 0;
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    const docs: object[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } },
      {
        apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-team', namespace: ns },
        spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [ns] } }], to: [{ operation: { methods: ['GET', 'POST'] } }] }] },
      },
    ];
    count += PER_NAMESPACE;
    const first = Math.floor((n * services) / namespaces);
    const last = Math.floor(((n + 1) * services) / namespaces);
    for (let s = first; s < last; s++) {
      const name = `svc-${s}`;
      const labels = { app: name, version: 'v1' };
      const badPortName = s % 40 === 7;
      const badHost = s % 50 === 3;
      const badSubset = s % 60 === 11;
      const badUid = s % 100 === 13;
      if (badPortName) planted.IST0118++;
      if (badHost) planted.IST0101 += 2; // the host, and the host+subset no DestinationRule defines
      if (badSubset) planted.IST0173++;
      if (badUid) planted.IST0144 += 3; // the Deployment and its two Pods
      const podSpec = {
        ...(badUid ? { securityContext: { runAsUser: 1337 } } : {}),
        containers: [{ name: 'app', image: `example/${name}:1`, ports: [{ containerPort: 8080 }] }, { name: 'istio-proxy', image: 'istio/proxyv2:1.24.0' }],
      };
      docs.push(
        { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels: { app: name } }, spec: { selector: { app: name }, ports: [{ name: badPortName ? 'web' : 'http', port: 8080, targetPort: 8080 }] } },
        {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${name}-v1`, namespace: ns },
          spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
        },
        ...[0, 1].map((i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-v1-${i}`, namespace: ns, labels }, spec: podSpec })),
        {
          apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: ns },
          spec: {
            hosts: [name],
            http: [{ route: [{ destination: { host: badHost ? `${name}-missing` : name, subset: 'v1', port: { number: 8080 } } }], timeout: '5s', retries: { attempts: 2, perTryTimeout: '2s' } }],
          },
        },
        {
          apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: ns },
          spec: {
            host: name,
            trafficPolicy: { connectionPool: { http: { http1MaxPendingRequests: 100 } }, outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' } },
            subsets: [{ name: 'v1', labels: { version: badSubset ? 'v9' : 'v1' } }],
          },
        },
      );
      count += PER_SERVICE;
    }
    // Top up the last namespace with ConfigMaps so the mesh has exactly `target` resources.
    if (n === namespaces - 1) {
      for (let i = 0; count < target; i++, count++) docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `settings-${i}`, namespace: ns }, data: { level: 'info' } });
    }
    files.push({ name: `${ns}.yaml`, text: docs.map((d) => stringify(d)).join('---\n') });
  }
  return { files, resources: count, planted };
}
