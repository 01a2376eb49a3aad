import { after, before, describe, test } from 'node:test';

// The resilience conformance table (issue 4): every row is one node:test whose name carries a
// stable id, the Istio field it covers and the Istio/Envoy rule it checks, so a failure reads
// as "this rule is broken" and docs can cite rows by id.
//
//   table('VirtualService retries', () => {
//     const fx = useSidecar({ ... });              // fixture.ts
//     row({ id: 'RT-03', field: 'VirtualService.http.retries.retryOn', rule: 'Envoy router: retriable-4xx retries 409 only' }, async () => { ... });
//   });
//
// The rows are data as well: `node dist/test/proxy/conformance/list.js` imports every
// conformance file with MESHMEDIC_CONFORMANCE=list, where `table` and `row` only collect (no
// test, no hook, no socket), and prints the table for the compatibility page. Hooks must
// therefore go through `useSidecar` or `setup`/`teardown` below, which do nothing when listing.
//
// A row with `todo` states the Istio/Envoy behaviour the proxy does not have yet (a known
// difference or a bug): it runs and is reported as todo, without failing the suite.

export interface ConformanceRow {
  /** `<AREA>-<nn>`, stable once published (docs cite it). */
  id: string;
  /** The Istio field covered, as a path: `VirtualService.http.retries.retryOn`. */
  field: string;
  /** The rule checked, in one sentence, starting with whose rule it is: `Envoy router: ...`, `istiod: ...`. */
  rule: string;
  /** Set when the proxy does not follow the rule yet: what differs, and why it is not fixed here. */
  todo?: string;
}

export interface ListedRow extends ConformanceRow {
  /** The title of the table (file section) the row belongs to. */
  table: string;
}

export const LISTING = process.env.MESHMEDIC_CONFORMANCE === 'list';

const ID = /^[A-Z]{2,4}-\d{2,3}$/;
const collected: ListedRow[] = [];
let currentTable = '';

/** A group of rows sharing one fixture (a describe block when the rows run). */
export function table(title: string, body: () => void): void {
  currentTable = title;
  try {
    if (LISTING) body();
    else describe(title, { timeout: 60_000 }, body);
  } finally {
    currentTable = '';
  }
}

/** One row: one test, named `<id> [<field>] <rule>`. */
export function row(spec: ConformanceRow, fn: () => Promise<void>): void {
  if (!ID.test(spec.id)) throw new Error(`conformance row id ${spec.id} is not <AREA>-<nn>`);
  // Ids are unique across the table: the listing loads every file in one process and checks them all.
  if (collected.some((r) => r.id === spec.id)) throw new Error(`duplicate conformance row id ${spec.id}`);
  collected.push({ ...spec, table: currentTable });
  if (LISTING) return;
  test(`${spec.id} [${spec.field}] ${spec.rule}`, spec.todo ? { todo: spec.todo } : {}, fn);
}

/** `before`, except when the rows are only listed. */
export function setup(fn: () => Promise<void>): void {
  if (!LISTING) before(fn);
}

/** `after`, except when the rows are only listed. */
export function teardown(fn: () => Promise<void>): void {
  if (!LISTING) after(fn);
}

/** Every row registered so far in this process, in registration order. */
export function conformanceRows(): readonly ListedRow[] {
  return collected;
}
