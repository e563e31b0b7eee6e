// Grafana asks the same expressions again and again (every panel on every refresh, only the time
// changes), so plans are kept per shard map: a repeated query skips parsing and analysis. Plans are
// immutable; a new shard map (a refresh) starts a new cache.
import type { Major } from '../promql/function-table.ts';
import { planQuery, type QueryPlan } from '../promql/plan.ts';
import type { ShardMap } from '../shards/schema.ts';

/** Longer queries are planned every time: they are rare, and their trees would crowd the cache. */
export const MAX_CACHED_QUERY_LENGTH = 4096;
/** Plans kept per shard map, least recently used dropped first (at most a few megabytes). */
export const MAX_CACHED_PLANS = 1000;

const caches = new WeakMap<ShardMap, Map<string, QueryPlan>>();

/** planQuery for the map's shards, from the cache when the same text was planned recently for the major. */
export function cachedPlan(text: string, map: ShardMap, major: Major): QueryPlan {
  if (text.length > MAX_CACHED_QUERY_LENGTH) return planQuery(text, map.shardLabel, [...map.shards.keys()], major);
  let cache = caches.get(map);
  if (cache === undefined) caches.set(map, (cache = new Map()));
  const key = `${major}${text}`;
  let plan = cache.get(key);
  if (plan !== undefined) {
    // A Map iterates in insertion order: re-inserting makes it the most recently used.
    cache.delete(key);
  } else {
    plan = planQuery(text, map.shardLabel, [...map.shards.keys()], major);
    if (cache.size >= MAX_CACHED_PLANS) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, plan);
  return plan;
}
