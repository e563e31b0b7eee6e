// The test's judge of a query's validity for Prometheus, without Prometheus: the lezer grammar,
// Prometheus's string-literal rules, Go's regexp syntax, the non-empty-matcher rule for selectors and
// the number of arguments of aggregations and absent().
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import {
  LiteralError, lezerAccepts, literalErrors, oracleSelectors, regexErrors, selectsSomethingNamed, type OracleSelector,
} from './oracle.ts';

/** What makes the query invalid; empty when valid. */
export function judge(text: string): string[] {
  if (!lezerAccepts(text)) return ['the lezer grammar rejects it'];
  const problems = literalErrors(text);
  let selectors: OracleSelector[];
  try {
    selectors = oracleSelectors(text);
  } catch (err) {
    if (err instanceof LiteralError) return [...problems, err.message];
    throw err;
  }
  problems.push(...regexErrors(selectors));
  for (const s of selectors) {
    if (regexErrors([s]).length > 0) continue;
    if (!selectsSomethingNamed(s)) problems.push(`${JSON.stringify(text.slice(s.from, s.to))}: vector selector must contain at least one non-empty matcher`);
  }
  problems.push(...aggregationArityErrors(text));
  return problems;
}

/** Aggregations taking a parameter (topk(k, v), quantile(φ, v), ...) need two arguments, others one. */
const PARAMETERISED = new Set(['topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio']);
const EXPRESSIONS = new Set([
  'AggregateExpr', 'BinaryExpr', 'FunctionCall', 'MatrixSelector', 'NumberDurationLiteral', 'OffsetExpr',
  'ParenExpr', 'StringLiteral', 'SubqueryExpr', 'UnaryExpr', 'VectorSelector', 'StepInvariantExpr',
  'SmoothedExpr', 'AnchoredExpr',
]);

function aggregationArityErrors(text: string): string[] {
  const problems: string[] = [];
  parser.parse(text).iterate({
    enter(ref) {
      if (ref.name === 'FunctionCall') {
        const name = text.slice(ref.node.firstChild!.from, ref.node.firstChild!.to);
        const count = argumentCount(ref.node.getChild('FunctionCallBody'));
        if ((name === 'absent' || name === 'absent_over_time') && count !== 1) {
          problems.push(`expected 1 argument(s) in call to "${name}", got ${count}`);
        }
        return;
      }
      if (ref.name !== 'AggregateExpr') return;
      const op = text.slice(ref.node.firstChild!.from, ref.node.firstChild!.to).toLowerCase();
      const args = argumentCount(ref.node.getChild('FunctionCallBody'));
      const expected = PARAMETERISED.has(op) ? 2 : 1;
      if (args !== expected) problems.push(`${op}: wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args}`);
    },
  });
  return problems;
}

function argumentCount(body: SyntaxNode | null): number {
  let count = 0;
  for (let c = body?.firstChild ?? null; c !== null; c = c.nextSibling) if (EXPRESSIONS.has(c.name)) count++;
  return count;
}
