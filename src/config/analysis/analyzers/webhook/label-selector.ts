// Kubernetes `metav1.LabelSelector` matching, as the API server applies it to admission webhooks'
// namespaceSelector and objectSelector. Several analyzers ask "would this webhook fire for a
// workload with these labels?", so they need the full semantics, matchExpressions included.

export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[] | null;
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

/**
 * True when the labels satisfy the selector. A missing selector matches everything (the webhook
 * default); a malformed one (unknown operator, In without values, ...) matches nothing, because
 * Kubernetes would refuse to turn it into a selector.
 */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (selector === null || selector === undefined) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== String(v)) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const result = requirementMatches(req, l);
    if (result !== true) return false;
  }
  return true;
}

/** `true`/`false` for a valid requirement, `undefined` for one Kubernetes would reject. */
function requirementMatches(req: LabelSelectorRequirement, labels: Record<string, string>): boolean | undefined {
  if (!req || typeof req.key !== 'string' || req.key === '') return undefined;
  const values = (req.values ?? []).map(String);
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  switch (req.operator) {
    case 'In':
      if (values.length === 0) return undefined;
      return has && values.includes(labels[req.key]);
    case 'NotIn':
      if (values.length === 0) return undefined;
      return !has || !values.includes(labels[req.key]);
    case 'Exists':
      if (values.length > 0) return undefined;
      return has;
    case 'DoesNotExist':
      if (values.length > 0) return undefined;
      return !has;
    default:
      return undefined;
  }
}
