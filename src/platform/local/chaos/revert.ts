import type { ChaosDeps } from './faults/context.js';
import type { RevertStep } from './types.js';

// Undoing an injection: its revert steps, newest first (the reverse of how they were made).
// In-process faults are not undone here: the engine sends the fault sets again without the
// injection (desired-faults.ts). Every step is tried even when one fails, and the failures
// are reported together.

export async function runRevert(steps: readonly RevertStep[], deps: ChaosDeps, pushWithout: (instances: string[], which: { app?: boolean; sidecar?: boolean }) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  for (const step of [...steps].reverse()) {
    try {
      await undo(step, deps, pushWithout);
    } catch (e) {
      errors.push(`${step.op}: ${(e as Error).message}`);
    }
  }
  return errors;
}

async function undo(step: RevertStep, deps: ChaosDeps, pushWithout: (instances: string[], which: { app?: boolean; sidecar?: boolean }) => Promise<void>): Promise<void> {
  switch (step.op) {
    case 'release':
      deps.supervisor.release(step.process);
      return;
    case 'resume':
      // Only the process that was stopped: if it died and was restarted meanwhile, the new one runs.
      if (deps.supervisor.pid(step.process) === step.pid) process.kill(step.pid, 'SIGCONT');
      return;
    case 'app-faults':
      return pushWithout(step.instances, { app: true });
    case 'network-faults':
      return pushWithout(step.instances, { sidecar: true });
    case 'restore-config': {
      const cp = deps.controlPlane();
      const back = step.previous.filter((p) => p.raw !== null).map((p) => p.raw!);
      const created = step.previous.filter((p) => p.raw === null);
      if (back.length) await cp.apply(back, 'chaos revert');
      if (created.length) await cp.delete(created.map((p) => ({ apiVersion: p.apiVersion ?? 'networking.istio.io/v1', kind: p.kind, namespace: p.namespace, name: p.name })), 'chaos revert');
      return;
    }
    case 'remove-instances':
      for (const i of step.instances) await deps.processes.removeInstance(`${i.name}.${i.namespace}`);
      return;
    case 'restore-stand-in':
      return deps.standIns.restore(step.host);
  }
}
