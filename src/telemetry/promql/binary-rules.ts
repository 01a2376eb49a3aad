import { COMPARISON_OPS, SET_OPS, type BinaryOp, type ValueType, type VectorMatching } from './ast.js';
import { typeError } from './errors.js';

/**
 * Prometheus's parse-time rules for a binary expression (operand types, `bool`, matching
 * clauses); returns the vector matching to use (one-to-one by default, many-to-many for set
 * operators), or undefined when a side is a scalar.
 */
export function checkBinary(op: BinaryOp, lt: ValueType, rt: ValueType, bool: boolean, matching: VectorMatching | undefined): VectorMatching | undefined {
  for (const [t, side] of [[lt, 'left'], [rt, 'right']] as const) {
    if (t !== 'scalar' && t !== 'vector') throw typeError(`binary expression must contain only scalar and instant vector types (${side} side of ${op} is a ${t})`);
  }
  const comparison = COMPARISON_OPS.has(op);
  if (bool && !comparison) throw typeError(`bool modifier can only be used on comparison operators, not ${op}`);
  if (comparison && lt === 'scalar' && rt === 'scalar' && !bool) throw typeError('comparisons between scalars must use the bool modifier');
  if (SET_OPS.has(op)) {
    if (lt !== 'vector' || rt !== 'vector') throw typeError(`set operator ${op} not allowed in binary scalar expression`);
    if (matching && matching.card !== 'one-to-one') throw typeError(`no grouping allowed for "${op}" operation`);
    return { card: 'many-to-many', on: matching?.on ?? false, labels: matching?.labels ?? [], include: [] };
  }
  if (lt !== 'vector' || rt !== 'vector') {
    if (matching) throw typeError('vector matching (on/ignoring/group_left/group_right) only allowed between instant vectors');
    return undefined;
  }
  const m = matching ?? { card: 'one-to-one', on: false, labels: [], include: [] };
  if (m.on) {
    const overlap = m.include.find((l) => m.labels.includes(l));
    if (overlap) throw typeError(`label "${overlap}" must not occur in ON and GROUP clause at once`);
  }
  return m;
}
