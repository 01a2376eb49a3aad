import type { FieldPath } from '../../../../api/resource.js';
import { DNS1123_LABEL } from './check-hosts.js';
import type { Findings } from './findings.js';
import { entries, isSet, list, obj, str, type Obj } from './yaml-values.js';

// How a resource picks the workloads it applies to: Kubernetes labels, workload selectors (both
// generations) and policy attachment through targetRef / targetRefs.

const DNS_PREFIX = `${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*/`;
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelKeyRe = new RegExp(`^(${DNS_PREFIX})?(${QUALIFIED_NAME})$`);
const labelValueRe = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

function checkLabelKey(k: string): string | undefined {
  const m = labelKeyRe.exec(k);
  if (!m) return `invalid label key "${k}"`;
  if (m[1] && m[1].length - 1 > 253) return `invalid label key "${k}": its DNS prefix is longer than 253 characters`;
  if (m[2].length > 63) return `invalid label key "${k}": its name is longer than 63 characters`;
  return undefined;
}

/** Kubernetes label syntax for every key and value of a label map. */
export function checkLabels(f: Findings, path: FieldPath, labels: unknown): void {
  for (const [k, v] of entries(labels)) {
    const keyErr = checkLabelKey(k);
    if (keyErr) f.error([...path, k], keyErr);
    if (!labelValueRe.test(String(v ?? ''))) f.error([...path, k], `invalid label value "${String(v)}"`);
  }
}

/**
 * A `selector: {matchLabels}` (istio.type.v1beta1.WorkloadSelector): no empty keys, no
 * wildcards; an empty selector selects everything, which is most likely a mistake.
 */
export function checkWorkloadSelector(f: Findings, path: FieldPath, selector: unknown): void {
  if (!isSet(selector)) return;
  const labels = entries(obj(selector)?.matchLabels);
  for (const [k, v] of labels) {
    const lp = [...path, 'matchLabels', k];
    if (k === '') f.error(lp, `empty label key is not supported in a selector: "${k}=${v}"`);
    if (k.includes('*') || String(v).includes('*')) f.error(lp, `wildcards are not supported in a selector: "${k}=${v}"`);
  }
  if (labels.length === 0) f.warn(path, 'workload selector has no labels');
}

/**
 * The older `workloadSelector: {labels}` of Sidecar, ServiceEntry and EnvoyFilter. Returns the
 * errors (Istio stops validating the resource when there are any) and whether it is empty.
 */
export function alphaWorkloadSelectorErrors(path: FieldPath, selector: unknown): { errors: Array<[FieldPath, string]>; empty: boolean } {
  const errors: Array<[FieldPath, string]> = [];
  if (!isSet(selector)) return { errors, empty: false };
  const labels = entries(obj(selector)?.labels);
  for (const [k, v] of labels) {
    const lp = [...path, 'labels', k];
    if (k === '') errors.push([lp, `empty label key is not supported in a selector: "${k}=${v}"`]);
    if (k.includes('*') || String(v).includes('*')) errors.push([lp, `wildcards are not supported in a selector: "${k}=${v}"`]);
  }
  return { errors, empty: labels.length === 0 };
}

// Policy attachment (targetRef / targetRefs) is allowed to these kinds only (group, kind).
const TARGET_REF_KINDS: ReadonlyArray<[string, string]> = [
  ['core', 'Service'],
  ['networking.istio.io', 'ServiceEntry'],
  ['gateway.networking.k8s.io', 'Gateway'],
  ['gateway.networking.k8s.io', 'GatewayClass'],
];

export function checkPolicyTargetRef(f: Findings, path: FieldPath, ref: unknown): void {
  const r = obj(ref);
  if (!r) return;
  if (str(r.name) === '') f.error(path, 'targetRef name must be set');
  if (str(r.namespace) !== '') f.error([...path, 'namespace'], 'targetRef namespace must not be set: references across namespaces are not supported');
  const group = str(r.group) || 'core';
  if (!TARGET_REF_KINDS.some(([g, k]) => g === group && k === str(r.kind))) {
    const allowed = TARGET_REF_KINDS.map(([g, k]) => `${g === 'core' ? '' : g + '/'}${k}`).join(', ');
    f.error(path, `targetRef must point to one of ${allowed}, not ${str(r.group)}/${str(r.kind)}`);
  }
}

/** selector, targetRef and targetRefs are alternatives, and each targetRef must be allowed. */
export function checkPolicySelection(f: Findings, spec: Obj): void {
  const set = [isSet(spec.selector), isSet(spec.targetRef), list(spec.targetRefs).length > 0].filter(Boolean).length;
  if (set > 1) f.error(['spec'], 'only one of selector, targetRef or targetRefs may be set');
  checkWorkloadSelector(f, ['spec', 'selector'], spec.selector);
  checkPolicyTargetRef(f, ['spec', 'targetRef'], spec.targetRef);
  list(spec.targetRefs).forEach((ref, i) => checkPolicyTargetRef(f, ['spec', 'targetRefs', i], ref));
}
