// /api/v1/query and /api/v1/query_range: route the query to the one shard it touches, stream the
// collector's answer back with the shard label added where a global Prometheus would show it.
import { checkedBody } from '../collectors/checked-body.ts';
import { QueryAnswerEditor } from '../shard-label/edit.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { answerRangeCached } from './cached-range.ts';
import { askShard, withAnyShard, type RequestContext } from './context.ts';
import { answerAcrossShards } from './distributed.ts';
import { rawJsonResponse, type JsonBody } from './envelope.ts';
import { pick } from './params.ts';
import { evaluatedByRouter, planParam, shardQuery, type ErrorPrefix } from './plans.ts';
import { parseRangeParams, type RangeParams } from './time.ts';

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
  const plan = planParam(ctx.params.get('query') ?? '', ctx.map, prefix, ctx.shardRegexMajor);
  if (range !== null && ctx.cache !== null) {
    return answerRangeCached(ctx, plan, range, (part, partRange) => computeQuery(part, path, plan, partRange, prefix));
  }
  return rawJsonResponse(await computeQuery(ctx, path, plan, range, prefix));
}

/** The answer for the request's window (`range`, null for an instant query), computed whole. */
function computeQuery(ctx: RequestContext, path: QueryPath, plan: QueryPlan, range: RangeParams | null, prefix: ErrorPrefix): Promise<JsonBody> {
  // The engine evaluates a merged shard's query from the replicas' raw samples, even where it reads that shard alone.
  if (evaluatedByRouter(plan, ctx.map)) return answerAcrossShards(ctx, plan, range, prefix);
  const ask = async (shard: string): Promise<JsonBody> => {
    const { query, addLabel } = shardQuery(plan, shard, prefix);
    const params = pick(ctx.params, FORWARDED[path]);
    params.set('query', query);
    const answer = await askShard(ctx, { shard, path, params, method: 'POST' });
    // Checks the answer's head; adds the shard label where the global Prometheus shows it, and
    // translates the labels of the rule (a collector's own shard label) wherever they are.
    const editor = new QueryAnswerEditor(ctx.map.shardLabel, addLabel);
    return checkedBody(shard, answer, editor, ctx.trace.stream(shard));
  };
  // A query that touches no shard (`1+1`, `vector(1)`, `absent(up{cluster="gone"})`) is the same on
  // every collector: the first healthy one answers.
  return plan.shards.length === 1 ? ask(plan.shards[0]!) : withAnyShard(ctx, ask);
}
