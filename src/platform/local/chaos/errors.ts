// Errors of chaos that a user can cause, with stable codes. The daemon API sends them as
// `{error: {code, message}}` with the status below; the CLI prints `Error: message [CODE]`.

export type ChaosErrorCode =
  | 'E_CHAOS_PARAM' // a parameter is missing, unknown for the fault type, or out of range
  | 'E_CHAOS_TARGET' // the target does not exist, is ambiguous, or is not a kind the fault takes
  | 'E_CHAOS_NOT_FOUND' // no injection with that id
  | 'E_CHAOS_CONFLICT' // the target is already broken the same way (an instance already held down)
  | 'E_CHAOS_FAILED'; // the fault could not be put in force; whatever was done was undone

const STATUS: Record<ChaosErrorCode, number> = {
  E_CHAOS_PARAM: 400,
  E_CHAOS_TARGET: 400,
  E_CHAOS_NOT_FOUND: 404,
  E_CHAOS_CONFLICT: 409,
  E_CHAOS_FAILED: 500,
};

export class ChaosError extends Error {
  constructor(
    readonly code: ChaosErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChaosError';
  }

  get httpStatus(): number {
    return STATUS[this.code];
  }

  format(): string {
    return `${this.message} [${this.code}]`;
  }
}
