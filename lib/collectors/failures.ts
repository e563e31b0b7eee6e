// When a shard fails: which failures leave the others' answer usable, and how that is reported.
import { ApiError } from '../errors.ts';
import { inBatchesPer } from './batches.ts';

/** Unreachable, overloaded or timed-out collectors; errors about the query itself fail the query. */
export function isShardFailure(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.errorType === 'unavailable' || err.errorType === 'timeout' || err.status >= 500);
}

/**
 * Fails the request, 503 naming every failed shard, when partial answers are off and a shard failed,
 * or when every shard asked failed: an empty "partial" answer would look like no data.
 */
export function throwIfFailed(failed: ReadonlyMap<string, ApiError>, asked: number, partial: boolean): void {
  if (failed.size === 0 || (partial && failed.size < asked)) return;
  const names = [...failed.keys()].map((s) => JSON.stringify(s)).join(', ');
  const first = [...failed.values()][0]!;
  throw new ApiError(
    first.errorType,
    `${failed.size < asked ? 'partial responses are off and ' : ''}shards ${names} did not answer: ${[...failed.values()].map((e) => e.message).join('; ')}`,
    503,
  );
}

/** One warning per failed shard; Grafana shows them on the panel. */
export function partialWarnings(failed: ReadonlyMap<string, ApiError>): string[] {
  return [...failed.values()].map((e) => `partial response: ${e.message}`);
}

/**
 * Runs `call` for every item, at most `concurrency` at once per shard. A shard failure leaves that
 * shard out (its other items are not asked); the request fails as throwIfFailed says (partial answers
 * off, or every shard asked failed); any other error fails it at once. Returns the failed shards, for
 * partialWarnings: every fan-out to the shards (query leaves, series, labels, rules) goes through here.
 */
export async function fanOut<T>(
  items: readonly T[], shardOf: (item: T) => string, options: { readonly concurrency: number; readonly partial: boolean }, call: (item: T) => Promise<void>,
): Promise<ReadonlyMap<string, ApiError>> {
  const failed = new Map<string, ApiError>();
  await inBatchesPer(items, shardOf, options.concurrency, async (item) => {
    if (failed.has(shardOf(item))) return;
    try {
      await call(item);
    } catch (err) {
      if (!isShardFailure(err)) throw err;
      failed.set(shardOf(item), err);
    }
  });
  throwIfFailed(failed, new Set(items.map(shardOf)).size, options.partial);
  return failed;
}
