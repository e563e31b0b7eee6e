import type { ShardMap, Shard } from '../shards/schema.ts';
import { callShard, readEnvelope, type CollectorCall } from '../collectors/client.ts';
import { ApiError } from './envelope.ts';

/** What every endpoint handler gets: the shard map in force, the merged parameters, the deadline. */
export interface RequestContext {
  readonly map: ShardMap;
  readonly params: URLSearchParams;
  /** Epoch milliseconds by which the whole answer must be ready. */
  readonly deadline: number;
}

export function shardNamed(ctx: RequestContext, name: string): Shard {
  const shard = ctx.map.shards.get(name);
  if (shard === undefined) throw new ApiError('internal', `shard ${JSON.stringify(name)} is not in the shard map`);
  return shard;
}

export type ShardCall = Omit<CollectorCall, 'deadline'> & { readonly shard: string };

export interface ShardAnswer<T> {
  readonly shard: string;
  readonly data: T;
  readonly warnings: readonly string[];
}

/** Calls several shards at once and reads their success envelopes; the first failure fails all. */
export function askShards<T>(ctx: RequestContext, calls: readonly ShardCall[]): Promise<ShardAnswer<T>[]> {
  return Promise.all(calls.map(async (call) => {
    const shard = shardNamed(ctx, call.shard);
    const response = await callShard(shard, { ...call, deadline: ctx.deadline });
    const { data, warnings } = await readEnvelope<T>(shard, response);
    return { shard: call.shard, data, warnings: warnings.map((w) => `shard ${JSON.stringify(call.shard)}: ${w}`) };
  }));
}

/**
 * Runs `use` against the shards in map order until one answers: for requests any collector can serve
 * (`1+1`, buildinfo). Only an unreachable or overloaded collector moves on to the next.
 */
export async function withAnyShard<T>(ctx: RequestContext, use: (shard: string) => Promise<T>): Promise<T> {
  let last: unknown = new ApiError('unavailable', 'the shard map names no shard');
  for (const name of ctx.map.shards.keys()) {
    try {
      return await use(name);
    } catch (err) {
      if (!(err instanceof ApiError) || (err.errorType !== 'unavailable' && err.errorType !== 'timeout')) throw err;
      last = err;
      if (Date.now() >= ctx.deadline) break;
    }
  }
  throw last;
}
