/**
 * A validated shard map written back as a document: what `prome-route shards push` stores. Reading
 * the result with parseShardMap (or parseShardMapText) gives an equal map, whichever format the map
 * was first written in (JSON, YAML, the upstream proxy's YAML).
 */
import type { ReplicasMode, Shard, ShardMap, Tenant } from './schema.ts';

export interface ShardObjectDocument {
  readonly urls: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly hedgeAfterMs?: number;
  readonly replicas?: ReplicasMode;
}

/** A shard as the native format writes it: its one URL when that is all it has, otherwise an object. */
export type ShardDocument = string | ShardObjectDocument;

export interface TenantDocument {
  readonly tokenSha256: string;
  readonly shards: readonly string[];
}

export interface ShardMapDocument {
  readonly shardLabel: string;
  readonly shards: Readonly<Record<string, ShardDocument>>;
  readonly tenants?: Readonly<Record<string, TenantDocument>>;
}

export function shardDocument(shard: Shard): ShardDocument {
  const { urls, headers, timeoutMs, hedgeAfterMs, replicas } = shard;
  const [only] = urls;
  const plain = timeoutMs === undefined && hedgeAfterMs === undefined && replicas === undefined;
  if (urls.length === 1 && only !== undefined && !hasHeaders(shard) && plain) return only;
  return {
    urls: [...urls],
    // Spread and fromEntries define properties, so a header or shard named "__proto__" stays one.
    ...(hasHeaders(shard) ? { headers: { ...headers } } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(hedgeAfterMs === undefined ? {} : { hedgeAfterMs }),
    ...(replicas === undefined ? {} : { replicas }),
  };
}

export function shardMapDocument(map: ShardMap): ShardMapDocument {
  return {
    shardLabel: map.shardLabel,
    shards: Object.fromEntries([...map.shards].map(([name, shard]) => [name, shardDocument(shard)])),
    ...(map.tenants === undefined ? {} : { tenants: Object.fromEntries([...map.tenants].map(([name, tenant]) => [name, tenantDocument(tenant)])) }),
  };
}

export function tenantDocument({ tokenSha256, shards }: Tenant): TenantDocument {
  return { tokenSha256, shards: [...shards] };
}

/** The map as JSON: compact (an SSM parameter's value is limited to 4 KB), or indented with a final newline. */
export function shardMapJson(map: ShardMap, { pretty = false } = {}): string {
  return pretty ? `${JSON.stringify(shardMapDocument(map), null, 2)}\n` : JSON.stringify(shardMapDocument(map));
}

/** One shard's value in the per-shard SSM layout: the URL, or the shard object in JSON. */
export function shardValue(shard: Shard): string {
  const document = shardDocument(shard);
  return typeof document === 'string' ? document : JSON.stringify(document);
}

/** Whether the shard sends headers of its own, which may be credentials (store it encrypted). */
export function hasHeaders(shard: Shard): boolean {
  return Object.keys(shard.headers).length > 0;
}
