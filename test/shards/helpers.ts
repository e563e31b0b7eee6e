// Shared by the shard map source tests: a clock the test moves, and maps reduced to what they route.
import type { LoaderOptions } from '../../lib/shards/loader.ts';
import type { ShardMap } from '../../lib/shards/schema.ts';

export interface TestLoaderOptions extends Required<Omit<LoaderOptions, 'ttlMs' | 'failureMessage'>> {
  /** Moves the clock on by `ms`. */
  advance(ms: number): void;
  /** The entries the loader logged. */
  readonly logged: Record<string, unknown>[];
}

/** A clock at 0, no jitter (random() is 0.5: the TTL exactly), and a log kept in memory. */
export function testLoaderOptions(): TestLoaderOptions {
  let time = 0;
  const logged: Record<string, unknown>[] = [];
  return {
    now: () => time,
    random: () => 0.5,
    log: (entry) => logged.push(entry),
    advance: (ms) => {
      time += ms;
    },
    logged,
  };
}

/** The shard label and each shard's replica URLs: what a test compares. */
export function routes(map: ShardMap): { shardLabel: string; shards: Record<string, readonly string[]> } {
  return { shardLabel: map.shardLabel, shards: Object.fromEntries([...map.shards].map(([name, shard]) => [name, shard.urls])) };
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => new Error('expected a rejection, but the promise resolved'),
    (error: unknown) => ({ error }),
  );
  if (outcome instanceof Error) throw outcome;
  if (!(outcome.error instanceof Error)) throw new Error(`rejected with a non-Error: ${String(outcome.error)}`);
  return outcome.error;
}
