import { appProcess } from '../../mesh-processes.js';
import { ChaosError } from '../errors.js';
import type { ApplyContext, ApplyResult } from './context.js';

// instance-crash: the application process is killed (SIGKILL, as an OOM kill or a segfault
// ends a process) and held down for the injection's duration: the supervisor does not restart
// it until the injection is cleared. Its sidecar stays up and answers 503 (UF: the
// application's socket refuses), and the readiness probe takes the instance out of load
// balancing, as Kubernetes does with a crashed container.
//
// instance-hang: the application process is stopped (SIGSTOP): it keeps its sockets, accepts
// connections and answers nothing; clearing sends SIGCONT to that same process.

function instanceOf(ctx: ApplyContext): string {
  if (ctx.target.kind !== 'instance') throw new ChaosError('E_CHAOS_TARGET', `${ctx.type} takes an instance`);
  return `${ctx.target.name}.${ctx.target.namespace}`;
}

export async function crashInstance(ctx: ApplyContext): Promise<ApplyResult> {
  const id = instanceOf(ctx);
  const name = appProcess(id);
  const status = ctx.deps.supervisor.list().find((p) => p.name === name);
  if (!status) throw new ChaosError('E_CHAOS_TARGET', `no application process for instance ${id}`);
  if (status.state === 'held') throw new ChaosError('E_CHAOS_CONFLICT', `instance ${id} is already held down by another injection`);
  ctx.effects.process = name;
  ctx.effects.pid = status.pid;
  ctx.revert.push({ op: 'release', process: name });
  await ctx.deps.supervisor.hold(name, 'SIGKILL');
  return undefined;
}

export async function hangInstance(ctx: ApplyContext): Promise<ApplyResult> {
  const id = instanceOf(ctx);
  const name = appProcess(id);
  const pid = ctx.deps.supervisor.pid(name);
  if (pid === undefined) throw new ChaosError('E_CHAOS_CONFLICT', `the application of ${id} is not running (crashed or held down)`);
  ctx.effects.process = name;
  ctx.effects.pid = pid;
  process.kill(pid, 'SIGSTOP');
  ctx.revert.push({ op: 'resume', process: name, pid });
  return undefined;
}
