// What a tenant sees of the shard map: its own shards and nothing else. Every endpoint, the routing
// of shard matchers and the cross-shard engine read only the map they are handed, so a request
// handed this view is answered as a Prometheus holding only those shards would answer it: a shard
// outside the view is a name the map does not have.
import type { ShardMap } from './schema.ts';

/** One view per map and tenant: caches keyed by the map object (query plans) keep working for it. */
const views = new WeakMap<ShardMap, Map<string, ShardMap>>();

/** The map with only the tenant's shards, in the map's order, and no tenants. */
export function tenantView(map: ShardMap, tenantName: string): ShardMap {
  const tenant = map.tenants?.get(tenantName);
  if (tenant === undefined) throw new Error(`no tenant ${JSON.stringify(tenantName)} in the shard map`);
  let byTenant = views.get(map);
  if (byTenant === undefined) views.set(map, (byTenant = new Map()));
  let view = byTenant.get(tenantName);
  if (view === undefined) {
    const allowed = new Set(tenant.shards);
    view = { shardLabel: map.shardLabel, shards: new Map([...map.shards].filter(([name]) => allowed.has(name))) };
    byTenant.set(tenantName, view);
  }
  return view;
}
