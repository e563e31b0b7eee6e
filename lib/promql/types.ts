import type { SyntaxNode } from '@lezer/common';
import { returnsScalar } from './functions.ts';
import { expressionChildren, functionName } from './syntax.ts';

export type ValueType = 'scalar' | 'string' | 'vector' | 'matrix';

/**
 * The PromQL type of an expression node, as far as routing needs it. Ill-typed queries get some
 * answer here: the collectors reject them with Prometheus's own message.
 */
export function valueType(node: SyntaxNode, text: string): ValueType {
  switch (node.type.name) {
    case 'NumberDurationLiteral': return 'scalar';
    case 'StringLiteral': return 'string';
    case 'VectorSelector': case 'AggregateExpr': return 'vector';
    case 'MatrixSelector': case 'SubqueryExpr': return 'matrix';
    case 'FunctionCall': return returnsScalar(functionName(node, text)) ? 'scalar' : 'vector';
    case 'BinaryExpr': {
      const operands = expressionChildren(node);
      return operands.every((o) => valueType(o, text) === 'scalar') ? 'scalar' : 'vector';
    }
    default: {
      const inner = expressionChildren(node)[0];
      return inner === undefined ? 'vector' : valueType(inner, text);
    }
  }
}
