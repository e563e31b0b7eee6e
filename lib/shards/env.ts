// Which shard map source a deployment uses, from its environment variables.
import type { ShardMap } from './schema.ts';
import { loadShardMapFile } from './file.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The shard map getter for a platform's environment. Today: SHARD_MAP_FILE (local runs and tests).
 * The serverless milestone adds SSM (SHARD_MAP_SSM_PARAMETER / SHARD_MAP_SSM_PATH), OSS
 * (SHARD_MAP_OSS_BUCKET + SHARD_MAP_OSS_KEY) and a cached loader.
 */
export function shardMapFromEnv(env: Environment): () => Promise<ShardMap> {
  const file = env.SHARD_MAP_FILE;
  if (file === undefined || file === '') {
    return () => Promise.reject(new Error('no shard map source configured: set SHARD_MAP_FILE'));
  }
  let loaded: Promise<ShardMap> | null = null;
  return () => (loaded ??= loadShardMapFile(file).then(({ map }) => map));
}
