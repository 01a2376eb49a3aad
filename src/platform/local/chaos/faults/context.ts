import type { MeshProcesses } from '../../mesh-processes.js';
import type { Supervisor } from '../../supervisor.js';
import type { ControlPlaneClient } from '../control-plane-client.js';
import type { StandIns } from '../stand-ins.js';
import type { MeshView } from '../targets.js';
import type { ConfigRef, EdgeRef, FaultParams, FaultType, RevertStep, TargetRef } from '../types.js';

// What a fault needs to put itself in force, and how it reports what to undo: each change
// pushes its revert step the moment it is made, so an injection that fails half-way is undone
// exactly as far as it got.

export interface ChaosDeps {
  stateRoot: string;
  supervisor: Supervisor;
  processes: MeshProcesses;
  controlPlane: () => ControlPlaneClient;
  standIns: StandIns;
  log: (line: string) => void;
}

export interface ApplyContext {
  id: string;
  type: FaultType;
  target: TargetRef | EdgeRef;
  params: FaultParams;
  mesh: MeshView;
  deps: ChaosDeps;
  revert: RevertStep[];
  effects: Record<string, unknown>;
  /** Sends the in-process fault sets of these instances, this injection counted in. */
  pushFaults(instances: string[], which: { app?: boolean; sidecar?: boolean }): Promise<void>;
}

/** Config faults report the change they made: it is the ground truth of a bad config. */
export type ApplyResult = { config?: ConfigRef } | undefined;

export type FaultRunner = (ctx: ApplyContext) => Promise<ApplyResult>;
