/**
 * Runs `work` over all items with at most `limit` running at once per key (per shard: each collector
 * is asked at most that much at a time, while different collectors are asked all at once). Every item
 * is started unless one fails; the first failure is rethrown once the running ones have settled.
 */
export async function inBatchesPer<T>(items: readonly T[], keyOf: (item: T) => string, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  let failure: { error: unknown } | null = null;
  const guarded = async (item: T) => {
    if (failure !== null) return;
    try {
      await work(item);
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all([...groups.values()].map((group) => inBatches(group, limit, guarded)));
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/**
 * Runs `work` over all items with at most `limit` running at once. Every item is started unless one
 * fails; the first failure is rethrown once the running ones have settled.
 */
export async function inBatches<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && failure === null) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
