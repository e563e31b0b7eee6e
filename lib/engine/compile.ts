// Splits a query across shards: its logical plan (logical-plan.ts, with the distribution rewrites of
// distribute.ts) names the subtrees the shards evaluate; this builds the engine's expression over them,
// each remote query a leaf planned for the shards its own selectors read.
import type { Major } from '../promql/function-table.ts';
import { planQuery, type QueryPlan } from '../promql/plan.ts';
import type { Expr, Leaf } from './expr.ts';
import { logicalPlan, type LogicalNode, type PlanOptions } from './logical-plan.ts';

/**
 * The engine evaluates with Prometheus 2.42's semantics (the collectors' version here): a query it
 * evaluates must first pass `plan.checkFor(ENGINE_MAJOR)`.
 */
export const ENGINE_MAJOR: Major = 2;

export interface CompiledQuery {
  readonly expr: Expr;
  readonly leaves: readonly Leaf[];
}

/**
 * Compiles a query that passed `plan.checkFor(ENGINE_MAJOR)` (the parser layer's verdict).
 * Throws UnsupportedQueryError (422) for what the router cannot evaluate.
 */
export function compileQuery(plan: QueryPlan, shardNames: readonly string[], options: PlanOptions = {}): CompiledQuery {
  const leaves: Leaf[] = [];
  const expr = executionOf(logicalPlan(plan, options), (query, partial) => {
    const leafPlan = planQuery(query, plan.shardLabel, shardNames);
    const leaf: Leaf = { id: leaves.length, plan: leafPlan, shards: leafPlan.shards, partial };
    leaves.push(leaf);
    return leaf;
  });
  return { expr, leaves };
}

/** The engine's expression for a logical plan: each remote query becomes a leaf, numbered in evaluation order. */
function executionOf(node: LogicalNode, leaf: (query: string, partial: boolean) => Leaf): Expr {
  const build = (n: LogicalNode): Expr => executionOf(n, leaf);
  switch (node.kind) {
    case 'remote': return { kind: 'leaf', leaf: leaf(node.query, node.partial) };
    case 'number': case 'string': return node;
    case 'call': {
      const args: Expr[] = [];
      for (const a of node.args) args.push(build(a));
      return { ...node, args };
    }
    case 'absent': case 'negate': case 'subquery': return { ...node, expr: build(node.expr) };
    case 'aggregate': {
      const param = node.param === null ? null : build(node.param);
      return { ...node, param, expr: build(node.expr) };
    }
    case 'mergeVariance': {
      const count = build(node.count);
      const mean = build(node.mean);
      return { ...node, count, mean, variance: build(node.variance) };
    }
    case 'binary': {
      const lhs = build(node.lhs);
      return { ...node, lhs, rhs: build(node.rhs) };
    }
  }
}
