// Errors a user (or the API's caller) can cause in recovery, with stable codes: the API maps
// them to HTTP statuses, the CLI prints one line.

export type RecoveryErrorCode =
  | 'E_RECOVERY_NO_INCIDENT' // nothing open to recover from (or the incident named does not exist)
  | 'E_RECOVERY_ACTION_NOT_FOUND'
  | 'E_RECOVERY_STATE' // the action is not in a state that allows this (approve a verified action, ...)
  | 'E_RECOVERY_BUSY' // another action of the incident is being applied or verified
  | 'E_RECOVERY_PLATFORM' // the platform (mesh daemon) refused or is not there
  | 'E_RECOVERY_CONFIG' // the config change was refused by validation
  | 'E_RECOVERY_SETTINGS'; // a bad recovery.yaml / settings value

export class RecoveryError extends Error {
  constructor(readonly code: RecoveryErrorCode, message: string) {
    super(message);
    this.name = 'RecoveryError';
  }
}

/** The HTTP status of each code. */
export function httpStatusOf(code: RecoveryErrorCode): number {
  switch (code) {
    case 'E_RECOVERY_NO_INCIDENT':
    case 'E_RECOVERY_ACTION_NOT_FOUND':
      return 404;
    case 'E_RECOVERY_STATE':
    case 'E_RECOVERY_BUSY':
      return 409;
    case 'E_RECOVERY_PLATFORM':
      return 502;
    case 'E_RECOVERY_CONFIG':
    case 'E_RECOVERY_SETTINGS':
      return 400;
  }
}
