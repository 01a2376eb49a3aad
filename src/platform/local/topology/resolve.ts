import { callsOf, type Call, type Topology, type TopologyService } from './model.js';
import type { CallSources } from './parse-script.js';
import type { YamlReader } from './yaml-reader.js';

// Checks that need the whole graph: unique services, every call reaching a known service and
// port, TCP ports that would collide on a sidecar, and call cycles. isotope accepts any graph;
// we reject cycles because one request would then call around the loop forever.

export function resolveTopology(r: YamlReader, t: Topology, sources: CallSources): void {
  const byKey = new Map<string, TopologyService>();
  t.services.forEach((s, i) => {
    const key = `${s.namespace}/${s.name}`;
    const first = byKey.get(key);
    if (first) r.failAtLine(s.line, ['services', i, 'name'], `service ${s.name} in namespace ${s.namespace} is already defined at line ${first.line}`);
    else byKey.set(key, s);
  });
  checkTcpPorts(r, t);
  for (const s of t.services) for (const v of s.versions) for (const c of callsOf(v.behaviour)) resolveCall(r, t, s, c, sources);
  if (r.errors.length === 0) findCycles(r, t, sources);
}

function resolveCall(r: YamlReader, t: Topology, caller: TopologyService, c: Call, sources: CallSources): void {
  const src = sources.get(c);
  if (!src) return;
  const servicePath = typeof r.scalar(src.node) === 'string' ? src.path : [...src.path, 'service'];
  const [name, ns] = src.target.split('.');
  let target: TopologyService | undefined;
  if (ns) target = t.services.find((s) => s.name === name && s.namespace === ns);
  else {
    target = t.services.find((s) => s.name === name && s.namespace === caller.namespace);
    if (!target) {
      const all = t.services.filter((s) => s.name === name);
      if (all.length > 1) {
        r.fail(src.node, servicePath, `service ${name} exists in several namespaces (${all.map((s) => s.namespace).join(', ')}); write ${name}.<namespace>`);
        return;
      }
      target = all[0];
    }
  }
  if (!target) {
    r.fail(src.node, servicePath, `cannot call undefined service "${src.target}"`);
    return;
  }
  c.service = target.name;
  c.namespace = target.namespace;
  const port = src.portGiven ? target.ports.find((p) => p.port === c.port) : target.ports[0];
  if (!port) {
    r.fail(src.node, [...src.path, 'port'], `service ${target.name} has no port ${c.port} (it has ${target.ports.map((p) => p.port).join(', ')})`);
    return;
  }
  c.port = port.port;
  c.protocol = port.protocol;
  if (port.protocol === 'tcp' && (c.path !== '/' || (c.method !== 'GET' && c.method !== 'POST'))) {
    r.fail(src.node, src.path, `path and method do not apply to a call to the tcp port ${port.port} of ${target.name}`);
  }
}

/**
 * A sidecar listens on its instance's address at every inbound port and, for every TCP service
 * in the mesh, at that service's port (Istio's outbound TCP listeners). Two of those on one
 * address cannot both bind, so a TCP service port must be used by no other service.
 */
function checkTcpPorts(r: YamlReader, t: Topology): void {
  t.services.forEach((s, i) => {
    for (const p of s.ports) {
      if (p.protocol !== 'tcp') continue;
      const other = t.services.find((o) => o !== s && o.ports.some((q) => q.port === p.port || q.targetPort === p.port));
      if (other) {
        r.failAtLine(s.line, ['services', i, 'ports'], `tcp port ${p.port} of ${s.name} is also a port of ${other.name}: the sidecar listens on every TCP service port on every instance address, so a TCP service port must be unique in the topology`);
      }
    }
  });
}

/** Depth-first search over service -> service edges; each cycle is reported once, at the call closing it. */
function findCycles(r: YamlReader, t: Topology, sources: CallSources): void {
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const edges = new Map<string, Array<{ to: string; call: Call }>>();
  for (const s of t.services) {
    const list: Array<{ to: string; call: Call }> = [];
    for (const v of s.versions) for (const c of callsOf(v.behaviour)) list.push({ to: key(c.namespace, c.service), call: c });
    edges.set(key(s.namespace, s.name), list);
  }
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (n: string): void => {
    state.set(n, 'active');
    stack.push(n);
    for (const e of edges.get(n) ?? []) {
      const st = state.get(e.to);
      if (st === 'active') {
        const cycle = [...stack.slice(stack.indexOf(e.to)), e.to].map((k) => k.split('/')[1]);
        const id = [...cycle].slice(0, -1).sort().join(',');
        if (!reported.has(id)) {
          reported.add(id);
          const src = sources.get(e.call);
          r.fail(src?.node ?? null, src?.path ?? ['services'], `call cycle ${cycle.join(' -> ')}: a request would go round it forever`);
        }
      } else if (st === undefined) visit(e.to);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
}
