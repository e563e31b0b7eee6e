// `prome-route explain`: which shards a query goes to and what each of them is asked.
import { planQuery } from '../lib/promql/plan.ts';
import type { ShardMap } from '../lib/shards/schema.ts';

export function explain(map: ShardMap, query: string): string {
  const names = [...map.shards.keys()];
  const plan = planQuery(query, map.shardLabel, names);
  const lines = [`query:  ${query}`];
  if (plan.shards.length === 0) {
    lines.push(`shards: none touched; the first healthy collector (${names.join(', ')}) evaluates it`);
  } else {
    lines.push(`shards: ${plan.shards.join(', ')}`);
  }
  if (plan.shards.length > 1) {
    lines.push('note:   the query reads several shards; cross-shard evaluation is not supported yet (answered 422)');
  }
  for (const shard of plan.shards.length === 0 ? names.slice(0, 1) : plan.shards) {
    const { query: rewritten, addLabel } = plan.forShard(shard);
    const fixup = addLabel === null ? 'answer returned as is' : `adds ${map.shardLabel}=${JSON.stringify(addLabel)} to every series`;
    lines.push(`${shard}: ${rewritten}`, `${' '.repeat(shard.length)}  (${fixup})`);
  }
  return lines.join('\n');
}
