// Typed errors with stable codes. The CLI prints `file:line: path: message [CODE]` for these
// and never a stack trace; anything else is an internal error.

export type ErrorCode =
  | 'E_FILE_NOT_FOUND' // a path on the command line does not exist
  | 'E_FILE_READ' // the file exists but cannot be read
  | 'E_YAML_PARSE' // the text is not YAML/JSON
  | 'E_NOT_OBJECT' // a document is not a mapping
  | 'E_MISSING_FIELD' // apiVersion, kind or metadata.name is missing
  | 'E_UNKNOWN_KIND' // an Istio group with a kind or version Istio does not have
  | 'E_SCHEMA' // a field has the wrong type or is not in Istio's schema
  | 'E_USAGE' // bad command-line usage
  | 'E_MESH_CONFIG' // mesh config file is not valid
  | 'E_TOPOLOGY'; // a topology file (synthetic service graph) is not valid

export interface SourcePosition {
  file: string;
  line: number; // 1-based; 0 when unknown
  column?: number;
}

export class MeshmedicError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly position?: SourcePosition,
    readonly fieldPath?: string,
  ) {
    super(message);
    this.name = 'MeshmedicError';
  }

  /** One line for people: `file:line: field: message [CODE]`. */
  format(): string {
    const where = this.position ? `${this.position.file}${this.position.line ? `:${this.position.line}` : ''}: ` : '';
    const field = this.fieldPath ? `${this.fieldPath}: ` : '';
    return `${where}${field}${this.message} [${this.code}]`;
  }
}

/** Several input errors found at once; input is rejected whole. */
export class InputErrors extends Error {
  constructor(readonly errors: MeshmedicError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.name = 'InputErrors';
  }
}
