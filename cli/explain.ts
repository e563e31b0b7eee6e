// `prome-route explain`: which shards a query goes to and what each of them is asked.
import { compileQuery, ENGINE_MAJOR } from '../lib/engine/compile.ts';
import { groupingText } from '../lib/engine/distribute.ts';
import type { Expr } from '../lib/engine/expr.ts';
import { evaluatedByRouter } from '../lib/api/plans.ts';
import { planQuery, type QueryPlan } from '../lib/promql/plan.ts';
import { mergedShardNames, type ShardMap } from '../lib/shards/schema.ts';

export function explain(map: ShardMap, query: string): string {
  const names = [...map.shards.keys()];
  const plan = planQuery(query, map.shardLabel, names);
  const lines = [`query:  ${query}`];
  if (plan.shards.length === 0) {
    lines.push(`shards: none touched; the first healthy collector (${names.join(', ')}) evaluates it`);
  } else {
    lines.push(`shards: ${plan.shards.join(', ')}`);
  }
  if (evaluatedByRouter(plan, map)) return [...lines, ...explainAcrossShards(plan, names, mergedShardNames(map))].join('\n');
  for (const shard of plan.shards.length === 0 ? names.slice(0, 1) : plan.shards) {
    const { query: rewritten, addLabel } = plan.forShard(shard);
    const fixup = addLabel === null ? 'answer returned as is' : `adds ${map.shardLabel}=${JSON.stringify(addLabel)} to every series`;
    lines.push(`${shard}: ${rewritten}`, `${' '.repeat(shard.length)}  (${fixup})`);
  }
  return lines.join('\n');
}

/** The leaves each shard evaluates, and what the router evaluates above them. */
function explainAcrossShards(plan: QueryPlan, names: readonly string[], merged: ReadonlySet<string>): string[] {
  plan.checkFor(ENGINE_MAJOR);
  const { expr, leaves } = compileQuery(plan, names, { mergedShards: merged });
  const lines = [`router: ${render(expr)}`];
  for (const leaf of leaves) {
    lines.push(`leaf #${leaf.id}${leaf.partial ? ' (partial aggregate)' : ''}: ${leaf.plan.text}`);
    for (const shard of leaf.shards) {
      const how = merged.has(shard) ? ' (computed by the router from its replicas\' merged samples)' : '';
      lines.push(`  ${shard}: ${leaf.plan.forShard(shard).query}${how}`);
    }
  }
  return lines;
}

function render(expr: Expr): string {
  switch (expr.kind) {
    case 'number': return String(expr.value);
    case 'string': return JSON.stringify(expr.value);
    case 'leaf': return `#${expr.leaf.id}`;
    case 'rangeLeaf': return `#${expr.leaf.id} cut into ${expr.rangeMs / 1000}s windows`;
    case 'call': return `${expr.name}(${expr.args.map(render).join(', ')})`;
    case 'absent': return `absent(${render(expr.expr)})`;
    case 'aggregate':
      return `${expr.op}${groupingText(expr.grouping)} (${expr.param === null ? '' : `${render(expr.param)}, `}${render(expr.expr)})`;
    case 'mergeMoments': return `${expr.op} from (${render(expr.count)}, ${render(expr.mean)}, ${render(expr.other)})`;
    case 'binary': return `(${render(expr.lhs)} ${expr.op}${expr.bool ? ' bool' : ''} ${render(expr.rhs)})`;
    case 'negate': return `-${render(expr.expr)}`;
    case 'subquery': return `${render(expr.expr)}[${expr.rangeMs / 1000}s:${expr.stepMs === null ? '' : `${expr.stepMs / 1000}s`}]`;
  }
}
