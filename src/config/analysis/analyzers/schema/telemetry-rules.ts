import type { FieldPath, Resource } from '../../../../api/resource.js';
import { checkPolicySelection } from './check-selectors.js';
import type { Findings } from './findings.js';
import { entries, isSet, list, obj, str, wrapped } from './yaml-values.js';

// Telemetry rules (Istio's ValidateTelemetry): selector or targetRefs, named providers, complete
// metric tag overrides and tracing custom tags, a sampling percentage in range, and access log
// filters that are CEL expressions.

export function validateTelemetry(r: Resource, f: Findings): void {
  const spec = obj(r.spec) ?? {};
  checkPolicySelection(f, spec);
  list(spec.metrics).forEach((m, i) => checkMetrics(f, ['spec', 'metrics', i], m));
  const tracing = list(spec.tracing);
  if (tracing.length > 1) f.warn(['spec', 'tracing'], 'more than one tracing configuration is not supported');
  tracing.forEach((t, i) => checkTracing(f, ['spec', 'tracing', i], t));
  list(spec.accessLogging).forEach((l, i) => {
    const log = obj(l);
    if (!log) return;
    const filter = obj(log.filter);
    if (filter) {
      const err = celSyntaxError(str(filter.expression));
      if (err) f.error(['spec', 'accessLogging', i, 'filter', 'expression'], `filter must be a valid CEL expression: ${err}`);
    }
    checkProviders(f, ['spec', 'accessLogging', i, 'providers'], log.providers);
  });
}

/** Istio reports one error for the first unnamed provider. */
function checkProviders(f: Findings, p: FieldPath, providers: unknown): void {
  const i = list(providers).findIndex((pr) => str(obj(pr)?.name) === '');
  if (i >= 0) f.error([...p, i], 'provider name must not be empty');
}

function checkMetrics(f: Findings, p: FieldPath, raw: unknown): void {
  const m = obj(raw);
  if (!m) return;
  checkProviders(f, [...p, 'providers'], m.providers);
  list(m.overrides).forEach((o, i) => {
    const op = [...p, 'overrides', i];
    const override = obj(o);
    if (!override) return f.error(op, 'override must not be null');
    for (const [name, t] of entries(override.tagOverrides)) {
      const tp = [...op, 'tagOverrides', name];
      if (name === '') f.warn(tp, 'tag override name must not be empty');
      const tag = obj(t);
      if (!tag) {
        f.error(tp, 'tag override must not be null');
        continue;
      }
      const operation = str(tag.operation) || 'UPSERT';
      if (operation === 'UPSERT' && str(tag.value) === '') f.error(tp, 'a tag override with operation UPSERT needs a value');
      if (operation === 'REMOVE' && str(tag.value) !== '') f.error([...tp, 'value'], 'a tag override value can be set only with operation UPSERT');
    }
    const match = obj(override.match);
    if (match && 'customMetric' in match && str(match.customMetric) === '') f.error([...op, 'match', 'customMetric'], 'customMetric must not be empty');
  });
}

function checkTracing(f: Findings, p: FieldPath, raw: unknown): void {
  const t = obj(raw);
  if (!t) return;
  if (list(t.providers).length > 1) f.warn([...p, 'providers'], 'more than one tracing provider is not supported');
  checkProviders(f, [...p, 'providers'], t.providers);
  if (isSet(t.randomSamplingPercentage)) {
    const v = wrapped(t.randomSamplingPercentage);
    if (v < 0 || v > 100) f.error([...p, 'randomSamplingPercentage'], 'randomSamplingPercentage must be between 0 and 100');
  }
  for (const [name, raw] of entries(t.customTags)) {
    const cp = [...p, 'customTags', name];
    if (name === '') f.error(cp, 'custom tag name must not be empty');
    const tag = obj(raw);
    if (!tag) {
      f.error(cp, `custom tag ${name} must not be null`);
      continue;
    }
    if ('literal' in tag && str(obj(tag.literal)?.value) === '') f.error(cp, 'literal tag value must not be empty');
    else if ('header' in tag && str(obj(tag.header)?.name) === '') f.error(cp, 'header tag name must not be empty');
    else if ('environment' in tag && str(obj(tag.environment)?.name) === '') f.error(cp, 'environment tag name must not be empty');
  }
}

/**
 * A light CEL syntax check (no full parser): the expression must not be empty, and quotes and
 * brackets must balance. Catches the common typos; a full CEL parse is not done.
 */
export function celSyntaxError(expr: string): string | undefined {
  if (expr.trim() === '') return 'the expression is empty';
  const closers: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === '"' || ch === "'") {
      const end = findClosingQuote(expr, i);
      if (end < 0) return `unterminated string starting at offset ${i}`;
      i = end;
    } else if (ch in closers) stack.push(closers[ch]);
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (stack.pop() !== ch) return `unexpected '${ch}' at offset ${i}`;
    }
  }
  if (stack.length) return `missing '${stack[stack.length - 1]}'`;
  if (/(&&|\|\||[=!<>]=|[+\-*/%<>]|\.)\s*$/.test(expr)) return 'the expression ends with an operator';
  return undefined;
}

function findClosingQuote(expr: string, start: number): number {
  const q = expr[start];
  for (let i = start + 1; i < expr.length; i++) {
    if (expr[i] === '\\') i++;
    else if (expr[i] === q) return i;
  }
  return -1;
}
