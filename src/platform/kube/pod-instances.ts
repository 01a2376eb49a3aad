import type { PortProtocol, WorkloadInstance } from '../../api/snapshot.js';
import type { Json } from './kube-client.js';

// Pods as the registry's instances, the way Istio names them in metrics: the workload is the
// controller that owns the pod (a Deployment's name: the ReplicaSet's name less its
// pod-template-hash; else the owner's own name; else the pod's), the instance the pod's name.
// Ready is the pod's Ready condition. Finished pods (Succeeded, Failed) are not instances.

export interface PodOwner {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job' | 'Pod';
  name: string;
}

export function ownerOf(pod: Json): PodOwner {
  const ref = (pod.metadata?.ownerReferences ?? []).find((o: Json) => o.controller) as Json | undefined;
  if (!ref) return { kind: 'Pod', name: pod.metadata?.name };
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && String(ref.name).endsWith(`-${hash}`)) return { kind: 'Deployment', name: String(ref.name).slice(0, -hash.length - 1) };
  if (['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(ref.kind)) return { kind: ref.kind, name: ref.name };
  return { kind: 'Pod', name: pod.metadata?.name };
}

/** Istio's protocol selection by port name or appProtocol (`http-web`, `grpc`, ...). */
function protocolOf(p: Json): PortProtocol {
  const n = String(p.appProtocol ?? p.name ?? '').toLowerCase();
  if (n.startsWith('grpc')) return 'grpc';
  if (n.startsWith('http2') || n === 'h2c') return 'http2';
  if (n.startsWith('http')) return 'http';
  return 'tcp';
}

export function podInstances(pods: readonly Json[]): WorkloadInstance[] {
  const out: WorkloadInstance[] = [];
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) continue;
    const address = pod.status?.podIP ?? '';
    const ready = (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
    const ports = (pod.spec?.containers ?? [])
      .filter((c: Json) => c.name !== 'istio-proxy')
      .flatMap((c: Json) => (c.ports ?? []) as Json[])
      .filter((p: Json) => (p.protocol ?? 'TCP') === 'TCP')
      .map((p: Json) => ({ name: String(p.name ?? `port-${p.containerPort}`), port: Number(p.containerPort), protocol: protocolOf(p), app: { host: address, port: Number(p.containerPort) } }));
    out.push({
      name: pod.metadata.name,
      workload: ownerOf(pod).name,
      namespace: pod.metadata.namespace,
      serviceAccount: pod.spec?.serviceAccountName ?? 'default',
      labels: { ...(pod.metadata.labels ?? {}) },
      address,
      ports,
      healthy: ready,
      source: 'registered',
    });
  }
  return out;
}
