import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { LabelMatcher, MatchOp } from '../store/matchers.js';
import { compileMatcher, MatcherError } from '../store/matchers.js';
import type { AggregateOp, BinaryOp, Expr, MatrixSelector, ValueType, VectorMatching, VectorSelector } from './ast.js';
import { parseDurationMs } from './duration.js';
import { MetricsQueryError, typeError, unsupported } from './errors.js';
import { FUNCTIONS } from './function-table.js';
import { checkBinary } from './binary-rules.js';
import { parseNumber, unquote } from './literals.js';
import { typeOf } from './types.js';

// PromQL text -> the subset's tree, with Prometheus's own grammar (lezer-promql) doing the
// syntax and this file the meaning: every construct outside the subset is refused with
// E_PROMQL_UNSUPPORTED naming it, and type rules Prometheus checks at parse time (rate needs a
// range vector, offset follows a selector, scalar comparisons need `bool`...) are checked here.

const AGGREGATES: Record<string, AggregateOp> = { Sum: 'sum', Avg: 'avg', Count: 'count', Min: 'min', Max: 'max', Topk: 'topk', Bottomk: 'bottomk', Quantile: 'quantile' };
const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^',
  Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=',
  And: 'and', Or: 'or', Unless: 'unless',
};
const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

export function parsePromQL(text: string): Expr {
  if (text.trim() === '') throw new MetricsQueryError('E_PROMQL_SYNTAX', 'empty query');
  const tree = parser.parse(text);
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        const near = text.slice(Math.max(0, n.from - 10), n.to + 10);
        throw new MetricsQueryError('E_PROMQL_SYNTAX', `syntax error at character ${n.from + 1} near "${near}"`);
      }
    },
  });
  const top = tree.topNode.firstChild;
  if (!top) throw new MetricsQueryError('E_PROMQL_SYNTAX', 'empty query');
  return new Builder(text).expr(top);
}

function kids(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

class Builder {
  constructor(private readonly text: string) {}

  private src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'NumberDurationLiteral':
        return { kind: 'number', value: parseNumber(this.src(n)) };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(n) };
      case 'ParenExpr':
        return this.expr(kids(n)[0]);
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'OffsetExpr':
        return this.offset(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'UnaryExpr':
        return this.unary(n);
      case 'SubqueryExpr':
        throw unsupported('subquery', 'subqueries (`expr[range:step]`) are not supported');
      case 'StepInvariantExpr':
        throw unsupported('modifier:@', 'the `@` modifier is not supported');
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        throw unsupported(`modifier:${n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'}`, `the experimental ${n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier is not supported`);
      default:
        throw unsupported(`syntax:${n.name}`, `"${this.src(n)}" (${n.name}) is not supported`);
    }
  }

  private string(n: SyntaxNode): string {
    return unquote(this.src(n));
  }

  private vectorSelector(n: SyntaxNode): VectorSelector {
    const matchers: LabelMatcher[] = [];
    let hasName = false;
    for (const c of kids(n)) {
      if (c.name === 'Identifier') {
        matchers.push({ name: '__name__', op: '=', value: this.src(c) });
        hasName = true;
      } else if (c.name === 'LabelMatchers') {
        for (const m of kids(c)) {
          if (m.name === 'QuotedLabelName') {
            // `{"metric.name"}`: a quoted metric name (Prometheus 3).
            matchers.push({ name: '__name__', op: '=', value: this.string(kids(m)[0]) });
            continue;
          }
          const [nameNode, opNode, valueNode] = kids(m);
          const name = nameNode.name === 'QuotedLabelName' ? this.string(kids(nameNode)[0]) : this.src(nameNode);
          const op = MATCH_OPS[kids(opNode)[0]?.name ?? ''];
          if (!op) throw new MetricsQueryError('E_PROMQL_SYNTAX', `invalid matcher operator in "${this.src(m)}"`);
          if (hasName && name === '__name__') throw typeError(`metric name must not be set twice: "${this.src(n)}"`);
          matchers.push({ name, op, value: this.string(valueNode) });
        }
      }
    }
    let emptyMatchesAll = true;
    for (const m of matchers) {
      try {
        if (!compileMatcher(m).matches('')) emptyMatchesAll = false;
      } catch (e) {
        if (e instanceof MatcherError) throw new MetricsQueryError('E_PROMQL_BAD_REGEX', e.message);
        throw e;
      }
    }
    if (emptyMatchesAll) {
      throw typeError(`vector selector must contain at least one non-empty matcher: "${this.src(n)}"`);
    }
    return { kind: 'vector', matchers, offsetMs: 0 };
  }

  private matrixSelector(n: SyntaxNode): MatrixSelector {
    const [inner, range] = kids(n);
    const vector = this.expr(inner);
    if (vector.kind !== 'vector' || inner.name === 'OffsetExpr') {
      throw typeError(`ranges are only allowed for vector selectors: "${this.src(n)}"`);
    }
    const rangeMs = this.duration(range);
    if (rangeMs <= 0) throw typeError(`range must be positive: "${this.src(n)}"`);
    return { kind: 'matrix', vector, rangeMs };
  }

  private duration(n: SyntaxNode): number {
    const parts = kids(n);
    if (n.name === 'OffsetDurationExpr' && parts[0]?.name === 'UnaryOp') {
      const sign = this.src(parts[0]) === '-' ? -1 : 1;
      return sign * this.duration(parts[1]);
    }
    if (parts.length !== 1 || parts[0].name !== 'NumberDurationLiteralInDurationContext') {
      throw unsupported('duration-expression', `duration expressions are not supported: "${this.src(n)}" (write a plain duration such as 5m)`);
    }
    const text = this.src(parts[0]);
    const d = parseDurationMs(text);
    if (d !== undefined) return d;
    const seconds = Number(text);
    if (!Number.isFinite(seconds)) throw new MetricsQueryError('E_PROMQL_SYNTAX', `invalid duration "${text}"`);
    return Math.round(seconds * 1000);
  }

  private offset(n: SyntaxNode): Expr {
    const parts = kids(n);
    return this.withOffset(parts[0], this.duration(parts[parts.length - 1]), n);
  }

  /**
   * lezer-promql binds `offset` looser than binary operators (`a unless a offset 30s` comes as
   * `(a unless a) offset 30s`); Prometheus binds it to the selector just before it, the
   * right-most operand, which is where it goes here.
   */
  private withOffset(inner: SyntaxNode, offsetMs: number, whole: SyntaxNode): Expr {
    if (inner.name === 'BinaryExpr') return this.binary(inner, (rhs) => this.withOffset(rhs, offsetMs, whole));
    const e = this.expr(inner);
    if (e.kind === 'vector' && inner.name !== 'OffsetExpr') return { ...e, offsetMs };
    if (e.kind === 'matrix' && inner.name !== 'OffsetExpr') return { ...e, vector: { ...e.vector, offsetMs } };
    throw typeError(`offset modifier must be preceded by an instant vector selector or range vector selector: "${this.src(whole)}"`);
  }

  private call(n: SyntaxNode): Expr {
    const [ident, body] = kids(n);
    const func = this.src(ident);
    const sig = FUNCTIONS[func];
    if (!sig) throw unsupported(`function:${func}`, `function ${func}() is not supported`);
    const args = kids(body).map((a) => this.expr(a));
    const min = sig.args.length - (sig.optional ?? 0);
    if (args.length < min || args.length > sig.args.length) {
      throw typeError(`${func}() expects ${min === sig.args.length ? min : `${min} to ${sig.args.length}`} argument(s), got ${args.length}`);
    }
    args.forEach((a, i) => this.expectType(a, sig.args[i], `argument ${i + 1} of ${func}()`));
    return { kind: 'call', func, args };
  }

  private aggregate(n: SyntaxNode): Expr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const c of kids(n)) {
      if (c.name === 'AggregateOp') {
        const name = kids(c)[0].name;
        op = AGGREGATES[name];
        if (!op) throw unsupported(`aggregation:${this.src(c)}`, `aggregation ${this.src(c)} is not supported`);
      } else if (c.name === 'AggregateModifier') {
        const [kw, labels] = kids(c);
        without = kw.name === 'Without';
        grouping = this.groupingLabels(labels);
      } else if (c.name === 'FunctionCallBody') args = kids(c).map((a) => this.expr(a));
    }
    if (!op) throw new MetricsQueryError('E_PROMQL_SYNTAX', `invalid aggregation "${this.src(n)}"`);
    const needsParam = op === 'topk' || op === 'bottomk' || op === 'quantile';
    if (args.length !== (needsParam ? 2 : 1)) throw typeError(`${op}() expects ${needsParam ? 2 : 1} argument(s), got ${args.length}`);
    const expr = args[args.length - 1];
    this.expectType(expr, 'vector', `${op}()`);
    if (needsParam) this.expectType(args[0], 'scalar', `parameter of ${op}()`);
    return { kind: 'aggregate', op, grouping, without, expr, ...(needsParam && { param: args[0] }) };
  }

  private groupingLabels(n: SyntaxNode): string[] {
    return kids(n).map((l) => (l.name === 'QuotedLabelName' ? this.string(kids(l)[0]) : this.src(l)));
  }

  private binary(n: SyntaxNode, rightOperand: (rhs: SyntaxNode) => Expr = (rhs) => this.expr(rhs)): Expr {
    const parts = kids(n);
    const lhs = this.expr(parts[0]);
    const rhs = rightOperand(parts[parts.length - 1]);
    const opName = parts[1].name;
    const op = BINARY_OPS[opName];
    if (!op) throw unsupported(`operator:${this.src(parts[1])}`, `operator ${this.src(parts[1])} is not supported`);
    let bool = false;
    let matching: VectorMatching | undefined;
    for (const m of parts.slice(2, -1)) {
      if (m.name === 'BoolModifier') bool = true;
      else if (m.name === 'MatchingModifierClause') matching = this.matching(m);
      else if (m.name === 'FillModifier') throw unsupported('modifier:fill', 'fill modifiers are not supported');
    }
    matching = checkBinary(op, typeOf(lhs), typeOf(rhs), bool, matching);
    return { kind: 'binary', op, lhs, rhs, bool, ...(matching && { matching }) };
  }

  private matching(n: SyntaxNode): VectorMatching {
    const parts = kids(n);
    const on = parts[0].name === 'On';
    const labels = this.groupingLabels(parts[1]);
    let card: VectorMatching['card'] = 'one-to-one';
    let include: string[] = [];
    if (parts[2]) {
      card = parts[2].name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
      if (parts[3]) include = this.groupingLabels(parts[3]);
    }
    return { card, on, labels, include };
  }

  private unary(n: SyntaxNode): Expr {
    const [opNode, inner] = kids(n);
    const expr = this.expr(inner);
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'vector') throw typeError(`unary expression only allowed on expressions of type scalar or instant vector, got ${t}`);
    if (this.src(opNode) === '+') return expr;
    if (expr.kind === 'number') return { kind: 'number', value: -expr.value };
    return { kind: 'unary', op: '-', expr };
  }

  private expectType(e: Expr, want: ValueType, where: string): void {
    const got = typeOf(e);
    if (got !== want) throw typeError(`expected type ${typeName(want)} in ${where}, got ${typeName(got)}`);
  }
}

function typeName(t: ValueType): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}
