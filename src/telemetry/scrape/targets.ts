import { PROXY_STATS_PORT, type WorkloadInstance } from '../../api/snapshot.js';
import { sanitizeLabelName, setLabel, type Labels } from '../store/labels.js';

// Scrape targets: one per workload instance, its sidecar's stats endpoint. The labels added to
// every scraped series are those Istio's Prometheus addon (samples/addons/prometheus.yaml, job
// `kubernetes-pods`, honor_labels: true) adds to a pod's metrics:
//   job="kubernetes-pods", instance="<address>:15090", namespace, pod, and the pod's labels
//   (labelmap __meta_kubernetes_pod_label_(.+): names with invalid characters get `_`).
// The addon's `node` label has no meaning on one machine and is left out.

export interface ScrapeTarget {
  /** Stable identity of the target across rounds: its URL. */
  key: string;
  url: string;
  labels: Labels;
}

export const DEFAULT_JOB = 'kubernetes-pods';
export const STATS_PATH = '/stats/prometheus';

export interface TargetOptions {
  job?: string;
  port?: number;
  path?: string;
  /** WorkloadEntries usually stand for machines without our sidecar (default: not scraped). */
  includeWorkloadEntries?: boolean;
}

export function targetForInstance(inst: WorkloadInstance, opts: TargetOptions = {}): ScrapeTarget {
  const host = `${inst.address}:${opts.port ?? PROXY_STATS_PORT}`;
  const url = `http://${host}${opts.path ?? STATS_PATH}`;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(inst.labels)) if (v !== '') setLabel(labels, sanitizeLabelName(k), v);
  labels.namespace = inst.namespace;
  labels.pod = inst.name;
  labels.job = opts.job ?? DEFAULT_JOB;
  labels.instance = host;
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) setLabel(sorted, k, labels[k]);
  return { key: url, url, labels: sorted };
}

export function targetsForInstances(instances: readonly WorkloadInstance[], opts: TargetOptions = {}): ScrapeTarget[] {
  return instances.filter((i) => opts.includeWorkloadEntries || i.source !== 'workloadentry').map((i) => targetForInstance(i, opts));
}
