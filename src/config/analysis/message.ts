import { friendlyName, lineOf, type FieldPath, type Resource } from '../../api/resource.js';
import { documentationUrl, messageType, render, type Level } from './catalogue.js';

/** One finding of an analyzer, as istioctl prints it. */
export interface Message {
  code: string;
  name: string;
  level: Level;
  text: string;
  params: readonly unknown[];
  resource?: Resource;
  /** Line set by the analyzer (a field's line); otherwise the resource's own line is used. */
  line?: number;
  fieldPath?: FieldPath;
}

/**
 * Build a message from the catalogue; pass `path` to point the reference at a field's line.
 * As in Istio (`util.ErrorLine` over the resource's field map), the line moves to the field only
 * when the path ends at a written scalar value; otherwise the resource's own line stands. This
 * matters beyond looks: messages with the same text and line are one message.
 */
export function newMessage(code: string, resource: Resource | undefined, params: readonly unknown[] = [], path?: FieldPath): Message {
  const type = messageType(code);
  return {
    code: type.code,
    name: type.name,
    level: type.level,
    text: render(type.template, params),
    params,
    resource,
    line: resource && path && endsAtScalar(resource.raw, path) ? lineOf(resource, path) : undefined,
    fieldPath: path,
  };
}

function endsAtScalar(raw: unknown, path: FieldPath): boolean {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur !== undefined && (cur === null || typeof cur !== 'object');
}

export function origin(m: Message): string {
  return m.resource ? friendlyName(m.resource) : '';
}

/** `file:line` of a message, or '' for a resource without a file. */
export function reference(m: Message): string {
  const r = m.resource;
  if (!r || !r.origin.file) return '';
  const line = m.line ?? r.origin.line;
  return line ? `${r.origin.file}:${line}` : r.origin.file;
}

/** istioctl's log line: `Error [IST0101] (VirtualService default/reviews file.yaml:3) text`. */
export function formatLog(m: Message): string {
  const ref = reference(m);
  const where = m.resource ? ` (${origin(m)}${ref ? ` ${ref}` : ''})` : '';
  return `${m.level} [${m.code}]${where} ${m.text}`;
}

/** The object istioctl prints for `-o json|yaml`. */
export function toOutputObject(m: Message): Record<string, string> {
  const out: Record<string, string> = { code: m.code, level: m.level, message: m.text, origin: origin(m) };
  const ref = reference(m);
  if (ref) out.reference = ref;
  out.documentationUrl = documentationUrl(m.code);
  return out;
}
