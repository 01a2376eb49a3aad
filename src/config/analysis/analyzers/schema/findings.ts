import { formatPath, type FieldPath } from '../../../../api/resource.js';

// What Istio's per-kind validation functions produce, in a form the schema analyzers turn into
// messages: errors (IST0106), warnings (IST0133), and the two VirtualService warnings Istio
// marks as "analysis aware" so they get their own codes (IST0130 unreachable rule, IST0131
// ineffective match). Every error and warning names the field it is about.

export type Finding =
  | { kind: 'error' | 'warning'; path: FieldPath; text: string }
  | { kind: 'unreachableRule'; rule: string; reason: string }
  | { kind: 'ineffectiveMatch'; rule: string; match: string; duplicateOf: string };

export class Findings {
  readonly items: Finding[] = [];

  error(path: FieldPath, text: string): void {
    this.items.push({ kind: 'error', path, text });
  }

  warn(path: FieldPath, text: string): void {
    this.items.push({ kind: 'warning', path, text });
  }

  unreachableRule(rule: string, reason: string): void {
    this.items.push({ kind: 'unreachableRule', rule, reason });
  }

  ineffectiveMatch(rule: string, match: string, duplicateOf: string): void {
    this.items.push({ kind: 'ineffectiveMatch', rule, match, duplicateOf });
  }

  get errorCount(): number {
    return this.items.filter((f) => f.kind === 'error').length;
  }
}

/** The text of an error or warning as shown to people: `spec.http[0].timeout: ...`. */
export function describe(path: FieldPath, text: string): string {
  return path.length ? `${formatPath(path)}: ${text}` : text;
}
