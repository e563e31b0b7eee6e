// Turns request parameters into routing plans, with Prometheus's own error wording.
import { ENGINE_MAJOR } from '../engine/compile.ts';
import type { Major } from '../promql/function-table.ts';
import { PromQLSyntaxError } from '../promql/parse.ts';
import type { QueryPlan, ShardQuery } from '../promql/plan.ts';
import { mergesReplicas, type ShardMap } from '../shards/schema.ts';
import type { RequestContext, ShardCall } from './context.ts';
import { ApiError, UnsupportedQueryError } from '../errors.ts';
import { checkFanOut } from './limits.ts';
import { pick } from './params.ts';
import { cachedPlan } from './plan-cache.ts';

/**
 * How Prometheus 2.42's API words errors in a query or selector: `/query` and `/series` name the
 * parameter, `/query_range`, `/query_exemplars`, `/labels` and `/label/<name>/values` do not.
 */
export type ErrorPrefix = '' | 'invalid parameter "query": ' | 'invalid parameter "match[]": ';

const EMPTY_SELECTOR = 'vector selector must contain at least one non-empty matcher';

/**
 * Whether the router evaluates the query itself rather than passing it to one collector: it reads
 * several shards, or a shard whose replicas are merged (no collector can answer for that shard).
 */
export function evaluatedByRouter(plan: QueryPlan, map: ShardMap): boolean {
  return plan.shards.length > 1 || plan.shards.some((s) => mergesReplicas(map.shards.get(s)!));
}

/** Plans a query; a syntax error, or a selector every matcher of which matches "", is a 400. */
export function planParam(text: string, map: ShardMap, prefix: ErrorPrefix, major: Major): QueryPlan {
  const plan = planned(text, map, prefix, major);
  const empty = plan.emptySelector;
  if (empty !== null) throw new ApiError('bad_data', `${prefix}${new PromQLSyntaxError(empty.from, EMPTY_SELECTOR, text).message}`);
  return plan;
}

/**
 * The query as one shard must answer it. The label analysis meets an operand it cannot label only in
 * a query no Prometheus accepts (a range vector as a binary operand): it is refused in Prometheus's
 * words (a 400), as the collector would, not as a router failure.
 */
export function shardQuery(plan: QueryPlan, shard: string, prefix: ErrorPrefix): ShardQuery {
  try {
    return plan.forShard(shard);
  } catch (err) {
    if (!(err instanceof UnsupportedQueryError)) throw err;
    try {
      plan.checkFor(ENGINE_MAJOR);
    } catch (refusal) {
      if (refusal instanceof PromQLSyntaxError) throw new ApiError('bad_data', `${prefix}${refusal.message}`);
      if (!(refusal instanceof UnsupportedQueryError)) throw refusal;
    }
    throw new ApiError('execution', err.message);
  }
}

function planned(text: string, map: ShardMap, prefix: ErrorPrefix, major: Major): QueryPlan {
  try {
    return cachedPlan(text, map, major);
  } catch (err) {
    if (err instanceof PromQLSyntaxError) throw new ApiError('bad_data', `${prefix}${err.message}`);
    throw err;
  }
}

/**
 * Routes series selectors (`match[]`) to shards: for each shard, the selectors it must answer,
 * rewritten for it. Shards no selector touches are left out. As in Prometheus, every selector is
 * parsed before any is refused for selecting everything.
 */
export function routeSelectors(selectors: readonly string[], map: ShardMap, prefix: ErrorPrefix, major: Major): Map<string, string[]> {
  const plans = selectors.map((text) => {
    const plan = planned(text, map, prefix, major);
    if (!plan.isSeriesSelector) {
      throw new ApiError('bad_data', `invalid parameter "match[]": ${JSON.stringify(text)} is not a series selector`);
    }
    return plan;
  });
  if (plans.some((p) => p.emptySelector !== null)) throw new ApiError('bad_data', `${prefix}match[] must contain at least one non-empty matcher`);
  const routes = new Map<string, string[]>();
  for (const plan of plans) {
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
  const routes = routeSelectors(selectors, ctx.map, path === '/api/v1/series' ? 'invalid parameter "match[]": ' : '', ctx.shardRegexMajor);
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
