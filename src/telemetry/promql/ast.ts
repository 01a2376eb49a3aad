import type { LabelMatcher } from '../store/matchers.js';

// The PromQL subset as a small typed tree, built from lezer-promql's syntax tree by parse.ts.

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | Call | Aggregate | Binary | Unary;

export interface NumberLiteral {
  kind: 'number';
  value: number;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
}

export interface VectorSelector {
  kind: 'vector';
  matchers: LabelMatcher[];
  offsetMs: number;
}

export interface MatrixSelector {
  kind: 'matrix';
  vector: VectorSelector;
  rangeMs: number;
}

export interface Call {
  kind: 'call';
  func: string;
  args: Expr[];
}

export type AggregateOp = 'sum' | 'avg' | 'count' | 'min' | 'max' | 'topk' | 'bottomk' | 'quantile';

export interface Aggregate {
  kind: 'aggregate';
  op: AggregateOp;
  /** `by (...)` labels, or with `without`, the labels left out. */
  grouping: string[];
  without: boolean;
  param?: Expr;
  expr: Expr;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** true: match on `labels` only; false: on every label except `labels` (and the metric name). */
  on: boolean;
  labels: string[];
  /** group_left/group_right: labels copied from the "one" side. */
  include: string[];
}

export interface Binary {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  bool: boolean;
  /** Set when both sides are vectors. */
  matching?: VectorMatching;
}

export interface Unary {
  kind: 'unary';
  op: '-';
  expr: Expr;
}

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);
