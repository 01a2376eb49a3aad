// Errors of the demo a user can cause, with stable codes; the CLI prints `Error: message [CODE]`.

export type DemoErrorCode =
  | 'E_DEMO_SCENARIO' // no scenario by that name
  | 'E_DEMO_MESH_RUNNING' // the state directory given already has a mesh running
  | 'E_DEMO_MESH' // the demo's mesh did not start (the log says why)
  | 'E_DEMO_INJECT'; // the scenario's fault could not be put in force

export class DemoError extends Error {
  constructor(
    readonly code: DemoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DemoError';
  }

  format(): string {
    return `${this.message} [${this.code}]`;
  }
}
