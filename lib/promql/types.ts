import type { Expr } from './ast.ts';
import { promqlFunction, type ValueType } from './function-table.ts';

export type { ValueType };

/** The type of an expression (Prometheus's Expr.Type()); an unknown function's result counts as a vector. */
export function valueType(expr: Expr): ValueType {
  let node = expr;
  for (;;) {
    switch (node.kind) {
      case 'number': case 'durationExpr': return 'scalar';
      case 'string': return 'string';
      case 'vectorSelector': case 'aggregate': return 'vector';
      case 'matrixSelector': case 'subquery': return 'matrix';
      case 'call': return promqlFunction(node.name)?.returnType ?? 'vector';
      case 'binary': return valueType(node.lhs) === 'scalar' && valueType(node.rhs) === 'scalar' ? 'scalar' : 'vector';
      case 'paren': case 'unary': node = node.expr; break;
    }
  }
}
