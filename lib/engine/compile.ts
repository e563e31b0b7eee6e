// Splits a query across shards: its logical plan (logical-plan.ts, with the distribution rewrites of
// distribute.ts) names the subtrees the shards evaluate; this builds the engine's expression over them,
// each remote query a leaf planned for the shards its own selectors read.
import type { Major } from '../promql/function-table.ts';
import { planQuery, type QueryPlan } from '../promql/plan.ts';
import type { Expr, Leaf } from './expr.ts';
import { logicalPlan, type LogicalNode, type PlanOptions, type RemoteQuery } from './logical-plan.ts';

/**
 * The semantics the engine follows when nothing says which major the shards run (no build info yet):
 * Prometheus 2.42's, the collectors' version here. A query it evaluates must first pass
 * `plan.checkForMajors(...)` for the majors of the shards it reads.
 */
export const ENGINE_MAJOR: Major = 2;

export interface CompiledQuery {
  readonly expr: Expr;
  readonly leaves: readonly Leaf[];
}

/**
 * Compiles a query that passed the parser layer's check for its shards' majors (`plan.checkForMajors`).
 * Throws UnsupportedQueryError (422) for what the router cannot evaluate.
 */
export function compileQuery(plan: QueryPlan, shardNames: readonly string[], options: PlanOptions = {}): CompiledQuery {
  const leaves: Leaf[] = [];
  const major = options.major ?? ENGINE_MAJOR;
  const expr = executionOf(logicalPlan(plan, options), (remote) => {
    const leafPlan = planQuery(remote.query, plan.shardLabel, shardNames, major);
    const leaf: Leaf = { id: leaves.length, plan: leafPlan, shards: leafPlan.shards, partial: remote.partial, ...(remote.raw ? { raw: true } : {}) };
    leaves.push(leaf);
    return leaf;
  });
  return { expr, leaves };
}

/** The engine's expression for a logical plan: each remote query becomes a leaf, numbered in evaluation order. */
function executionOf(node: LogicalNode, leaf: (remote: RemoteQuery) => Leaf): Expr {
  const build = (n: LogicalNode): Expr => executionOf(n, leaf);
  switch (node.kind) {
    case 'remote': return { kind: 'leaf', leaf: leaf(node) };
    case 'rangeLeaf': return { ...node, leaf: leaf(node.leaf) };
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
    case 'mergeMoments': {
      const count = build(node.count);
      const mean = build(node.mean);
      return { ...node, count, mean, other: build(node.other) };
    }
    case 'binary': {
      const lhs = build(node.lhs);
      return { ...node, lhs, rhs: build(node.rhs) };
    }
  }
}
