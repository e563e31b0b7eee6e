import type { VectorSelector } from './ast.ts';
import type { Major } from './function-table.ts';
import { matches } from './matchers.ts';

/**
 * The shards whose series a selector can return. On a global Prometheus every series carries the
 * shard label with its shard's name, so a shard is selected exactly when all shard-label matchers
 * accept its name (`cluster=""` accepts no shard; `cluster!=""` and `=~".*"` accept all).
 */
export function selectedShards(selector: VectorSelector, shardLabel: string, shardNames: readonly string[], major: Major = 2): string[] {
  const own = selector.matchers.filter((m) => m.name === shardLabel);
  // Regexes as the major compiles them: only a shard name with a newline can tell them apart.
  return shardNames.filter((name) => own.every((m) => matches(m, name, major === 3)));
}
