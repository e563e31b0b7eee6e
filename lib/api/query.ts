// /api/v1/query and /api/v1/query_range: route the query to the one shard it touches, stream the
// collector's answer back with the shard label added where a global Prometheus would show it.
import { checkedBody } from '../collectors/checked-body.ts';
import { QueryAnswerEditor } from '../merge/shard-label.ts';
import { mergesReplicas } from '../shards/schema.ts';
import { askShard, shardNamed, withAnyShard, type RequestContext } from './context.ts';
import { answerAcrossShards } from './distributed.ts';
import { rawJsonResponse } from './envelope.ts';
import { pick } from './params.ts';
import { planParam } from './plans.ts';
import { parseRangeParams } from './time.ts';

export type QueryPath = '/api/v1/query' | '/api/v1/query_range';

/** Parameters passed on to collectors; anything else is dropped (`timeout` is set from the deadline). */
const FORWARDED: Record<QueryPath, readonly string[]> = {
  '/api/v1/query': ['time', 'stats', 'limit', 'lookback_delta'],
  '/api/v1/query_range': ['start', 'end', 'step', 'stats', 'limit', 'lookback_delta'],
};

export async function handleQuery(ctx: RequestContext, path: QueryPath): Promise<Response> {
  // Prometheus checks a range query's start, end and step before the query itself, whichever
  // shards it reads: a collector must not be blamed for a step that no Prometheus accepts.
  const range = path === '/api/v1/query_range' ? parseRangeParams(ctx.params) : null;
  const prefix = range === null ? 'invalid parameter "query": ' : '';
  const plan = planParam(ctx.params.get('query') ?? '', ctx.map, prefix);
  // A shard whose replicas are merged has no collector that can answer for it: the engine evaluates
  // the query from the replicas' raw samples, even where it reads that shard alone.
  if (plan.shards.length > 1 || plan.shards.some((s) => mergesReplicas(shardNamed(ctx, s)))) return answerAcrossShards(ctx, plan, range, prefix);
  const ask = async (shard: string): Promise<Response> => {
    const { query, addLabel } = plan.forShard(shard);
    const params = pick(ctx.params, FORWARDED[path]);
    params.set('query', query);
    const answer = await askShard(ctx, { shard, path, params, method: 'POST' });
    // Checks the answer's head in any case; adds the shard label where the global Prometheus shows it.
    const editor = new QueryAnswerEditor(addLabel === null ? null : ctx.map.shardLabel, addLabel);
    return rawJsonResponse(await checkedBody(shard, answer, editor, ctx.trace.stream(shard)));
  };
  // A query that touches no shard (`1+1`, `vector(1)`, `absent(up{cluster="gone"})`) is the same on
  // every collector: the first healthy one answers.
  return plan.shards.length === 1 ? ask(plan.shards[0]!) : withAnyShard(ctx, ask);
}
