import type { FieldPath } from '../../../api/resource.js';
import type { Call, Latency, OnError, Step } from './model.js';
import { parseByteSize, parseDuration, parsePercentage } from './units.js';
import type { YamlReader, YNode } from './yaml-reader.js';

// Scripts (isotope's `sleep` / `call` steps, nested lists running concurrently) and latency
// distributions. Calls come out unresolved: `service` is the name as written, and the
// resolver (resolve.ts) fills in namespace, port and protocol once every service is known.

/** Settings a call inherits when it does not say: isotope's `requestSize`, and our `onError` / `timeout`. */
export interface CallDefaults {
  size: number;
  onError: OnError;
  timeoutMs?: number;
}

/** Where each unresolved call was written, for the resolver's messages. */
export interface CallSource {
  node: YNode;
  path: FieldPath;
  target: string; // `name` or `name.namespace`
  portGiven: boolean;
}

export type CallSources = Map<Call, CallSource>;

const CALL_FIELDS = ['service', 'size', 'hostname', 'probability', 'timeout', 'onError', 'fallback', 'attempts', 'path', 'method', 'port'] as const;
const SERVICE_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/;

export function parseScript(r: YamlReader, node: YNode, path: FieldPath, defaults: CallDefaults, sources: CallSources): Step[] | undefined {
  const items = r.seq(node, path);
  if (!items) return undefined;
  const steps: Step[] = [];
  items.forEach((item, i) => {
    const p = [...path, i];
    if (r.isSeq(item)) {
      const inner: Array<Extract<Step, { kind: 'sleep' | 'call' }>> = [];
      (r.seq(item, p) ?? []).forEach((sub, j) => {
        if (r.isSeq(sub)) r.fail(sub, [...p, j], 'concurrent steps may not be nested (one level of nested list only)');
        else {
          const s = parseCommand(r, sub, [...p, j], defaults, sources);
          if (s) inner.push(s);
        }
      });
      steps.push({ kind: 'concurrent', steps: inner });
    } else {
      const s = parseCommand(r, item, p, defaults, sources);
      if (s) steps.push(s);
    }
  });
  return steps;
}

function parseCommand(r: YamlReader, node: YNode, path: FieldPath, defaults: CallDefaults, sources: CallSources): Extract<Step, { kind: 'sleep' | 'call' }> | undefined {
  const f = r.map(node, path, ['sleep', 'call']);
  if (!f) return undefined;
  if (f.keys().length !== 1) return r.fail(node, path, 'a step is exactly one command: `sleep` or `call`');
  if (f.has('sleep')) {
    const latency = parseLatency(r, f.get('sleep'), f.at('sleep'));
    return latency && { kind: 'sleep', latency };
  }
  const call = parseCall(r, f.get('call'), f.at('call'), defaults, sources);
  return call && { kind: 'call', call };
}

function parseCall(r: YamlReader, node: YNode, path: FieldPath, defaults: CallDefaults, sources: CallSources): Call | undefined {
  const call: Call = {
    service: '',
    namespace: '',
    port: 0,
    protocol: 'http',
    path: '/',
    method: 'GET',
    size: defaults.size,
    probability: 1,
    timeoutMs: defaults.timeoutMs,
    attempts: 1,
    onError: defaults.onError,
    line: r.line(node),
  };
  let target: string | undefined;
  let portGiven = false;
  let methodGiven = false;
  if (typeof r.scalar(node) === 'string') {
    target = r.string(node, path, { re: SERVICE_REF, what: 'a service name (`name` or `name.namespace`)' });
  } else {
    const f = r.map(node, path, CALL_FIELDS);
    if (!f) return undefined;
    if (!f.has('service')) return r.fail(node, path, 'a call needs `service`');
    target = r.string(f.get('service'), f.at('service'), { re: SERVICE_REF, what: 'a service name (`name` or `name.namespace`)' });
    if (f.has('size')) call.size = r.parsed(f.get('size'), f.at('size'), parseByteSize) ?? call.size;
    if (f.has('hostname')) call.hostname = r.string(f.get('hostname'), f.at('hostname'), { re: /^[A-Za-z0-9.-]+(:\d+)?$/, what: 'a host[:port]' });
    if (f.has('probability')) call.probability = r.parsed(f.get('probability'), f.at('probability'), parsePercentage) ?? 1;
    if (f.has('timeout')) {
      const t = r.parsed(f.get('timeout'), f.at('timeout'), parseDuration);
      if (t === 0) r.fail(f.get('timeout'), f.at('timeout'), 'timeout must be more than 0');
      else call.timeoutMs = t;
    }
    if (f.has('attempts')) call.attempts = r.int(f.get('attempts'), f.at('attempts'), 1, 10) ?? 1;
    if (f.has('path')) call.path = r.string(f.get('path'), f.at('path'), { re: /^\/\S*$/, what: 'a path starting with /' }) ?? '/';
    if (f.has('method')) {
      call.method = r.string(f.get('method'), f.at('method'), { re: /^[A-Z]+$/, what: 'an HTTP method in capitals' }) ?? 'GET';
      methodGiven = true;
    }
    if (f.has('port')) {
      call.port = r.int(f.get('port'), f.at('port'), 1, 65535) ?? 0;
      portGiven = true;
    }
    if (f.has('onError')) {
      const v = r.scalar(f.get('onError'));
      if (v === 'propagate' || v === 'fallback') call.onError = v;
      else r.fail(f.get('onError'), f.at('onError'), `onError must be propagate or fallback, found ${JSON.stringify(v ?? null)}`);
    }
    if (f.has('fallback')) {
      call.fallback = r.string(f.get('fallback'), f.at('fallback'));
      if (f.has('onError') && call.onError === 'propagate') r.fail(f.get('fallback'), f.at('fallback'), 'a fallback answer needs onError: fallback (it is never used with propagate)');
      call.onError = 'fallback';
    }
  }
  if (!target) return undefined;
  // isotope sends the `size` bytes as a request body, so a call with a body is a POST.
  if (!methodGiven && call.size > 0) call.method = 'POST';
  call.service = target;
  sources.set(call, { node, path, target, portGiven });
  return call;
}

const LATENCY_FIELDS = ['distribution', 'value', 'min', 'max', 'mean', 'stddev', 'median', 'sigma'] as const;
const DISTRIBUTION_FIELDS: Record<Latency['distribution'], { required: string[]; optional: string[] }> = {
  fixed: { required: ['value'], optional: [] },
  uniform: { required: ['min', 'max'], optional: [] },
  normal: { required: ['mean', 'stddev'], optional: ['max'] },
  exponential: { required: ['mean'], optional: ['max'] },
  lognormal: { required: ['median', 'sigma'], optional: ['max'] },
};

/** A duration (fixed), or `{distribution: fixed|uniform|normal|exponential|lognormal, ...}`. */
export function parseLatency(r: YamlReader, node: YNode, path: FieldPath): Latency | undefined {
  if (!r.isMap(node)) {
    const ms = r.parsed(node, path, parseDuration);
    return ms === undefined ? undefined : { distribution: 'fixed', ms };
  }
  const f = r.map(node, path, LATENCY_FIELDS);
  if (!f) return undefined;
  const dist = r.scalar(f.get('distribution'));
  if (!f.has('distribution') || typeof dist !== 'string' || !(dist in DISTRIBUTION_FIELDS)) {
    return r.fail(f.get('distribution') ?? node, f.at('distribution'), `distribution must be one of ${Object.keys(DISTRIBUTION_FIELDS).join(', ')}`);
  }
  const d = dist as Latency['distribution'];
  const spec = DISTRIBUTION_FIELDS[d];
  let ok = true;
  for (const k of f.keys()) {
    if (k !== 'distribution' && !spec.required.includes(k) && !spec.optional.includes(k)) {
      r.fail(f.get(k), f.at(k), `field "${k}" does not apply to a ${d} distribution (it takes ${[...spec.required, ...spec.optional].join(', ')})`);
      ok = false;
    }
  }
  for (const k of spec.required) {
    if (!f.has(k)) {
      r.fail(node, f.at(k), `a ${d} distribution needs ${k}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  const ms = (k: string) => r.parsed(f.get(k), f.at(k), parseDuration);
  const cap = f.has('max') && d !== 'uniform' ? ms('max') : undefined;
  switch (d) {
    case 'fixed': {
      const v = ms('value');
      return v === undefined ? undefined : { distribution: d, ms: v };
    }
    case 'uniform': {
      const [lo, hi] = [ms('min'), ms('max')];
      if (lo === undefined || hi === undefined) return undefined;
      if (lo > hi) return r.fail(f.get('min'), f.at('min'), 'min is more than max');
      return { distribution: d, minMs: lo, maxMs: hi };
    }
    case 'normal': {
      const [mean, sd] = [ms('mean'), ms('stddev')];
      return mean === undefined || sd === undefined ? undefined : withCap({ distribution: d, meanMs: mean, stddevMs: sd }, cap);
    }
    case 'exponential': {
      const mean = ms('mean');
      return mean === undefined ? undefined : withCap({ distribution: d, meanMs: mean }, cap);
    }
    case 'lognormal': {
      const median = ms('median');
      const sigma = r.scalar(f.get('sigma'));
      if (typeof sigma !== 'number' || sigma < 0) return r.fail(f.get('sigma'), f.at('sigma'), 'sigma is the standard deviation of the logarithm: a number, 0 or more');
      return median === undefined ? undefined : withCap({ distribution: d, medianMs: median, sigma }, cap);
    }
  }
}

function withCap<T extends Latency>(l: T, cap: number | undefined): T {
  return cap === undefined ? l : { ...l, capMs: cap };
}
