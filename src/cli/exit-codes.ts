// istioctl's exit codes (istioctl/pkg/cli: sysexits-style 64-78 for usage/data errors, 79 for findings).
export const EXIT_OK = 0;
export const EXIT_UNKNOWN_ERROR = 1;
export const EXIT_INCORRECT_USAGE = 64;
export const EXIT_DATA_ERROR = 65; // input files cannot be parsed or are not valid
export const EXIT_ANALYZER_FOUND_ISSUES = 79;

/** An error that ends the command with a given exit code after printing its lines to stderr. */
export class ExitError extends Error {
  constructor(readonly exitCode: number, readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export function usageError(message: string): ExitError {
  return new ExitError(EXIT_INCORRECT_USAGE, [`Error: ${message}`]);
}
