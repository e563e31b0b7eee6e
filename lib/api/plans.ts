// Turns request parameters into routing plans, with Prometheus's own error wording.
import { PromQLSyntaxError } from '../promql/parse.ts';
import type { QueryPlan } from '../promql/plan.ts';
import type { ShardMap } from '../shards/schema.ts';
import type { RequestContext, ShardCall } from './context.ts';
import { ApiError } from './envelope.ts';
import { checkFanOut } from './limits.ts';
import { pick } from './params.ts';
import { cachedPlan } from './plan-cache.ts';

export function planParam(text: string, param: string, map: ShardMap): QueryPlan {
  try {
    return cachedPlan(text, map);
  } catch (err) {
    if (err instanceof PromQLSyntaxError) throw new ApiError('bad_data', `invalid parameter ${JSON.stringify(param)}: ${err.message}`);
    throw err;
  }
}

/**
 * Routes series selectors (`match[]`) to shards: for each shard, the selectors it must answer,
 * rewritten for it. Shards no selector touches are left out.
 */
export function routeSelectors(selectors: readonly string[], map: ShardMap): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  for (const text of selectors) {
    const plan = planParam(text, 'match[]', map);
    if (!plan.isSeriesSelector) {
      throw new ApiError('bad_data', `invalid parameter "match[]": ${JSON.stringify(text)} is not a series selector`);
    }
    for (const shard of plan.shards) {
      const list = routes.get(shard) ?? [];
      list.push(plan.forShard(shard).query);
      routes.set(shard, list);
    }
  }
  return routes;
}

/**
 * One call per shard that the request's match[] selectors touch, each with the selectors rewritten
 * for it, plus `start`/`end`. Without match[], every shard is asked, with no selector.
 */
export function selectorCalls(ctx: RequestContext, path: string, method: 'GET' | 'POST'): ShardCall[] {
  const selectors = ctx.params.getAll('match[]');
  if (selectors.length === 0) return everyShardCalls(ctx, path, pick(ctx.params, ['start', 'end']), method);
  const routes = routeSelectors(selectors, ctx.map);
  checkFanOut(routes.size, ctx.limits);
  return [...routes].map(([shard, rewritten]) => {
    const params = pick(ctx.params, ['start', 'end']);
    for (const s of rewritten) params.append('match[]', s);
    return { shard, path, params, method };
  });
}

/** The same call to every shard of the map (rules, alerts, metadata, unfiltered label names), within the fan-out limit. */
export function everyShardCalls(ctx: RequestContext, path: string, params: URLSearchParams, method: 'GET' | 'POST' = 'GET'): ShardCall[] {
  checkFanOut(ctx.map.shards.size, ctx.limits);
  return [...ctx.map.shards.keys()].map((shard) => ({ shard, path, params, method }));
}
