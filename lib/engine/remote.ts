// What the engine needs from the collectors' side to fetch its leaves (after promql-engine's
// RemoteEngine): one shard's answer to one query, read and checked. The API layer implements it over
// the collectors' client for the request at hand (its deadline, trace and limits).
import type { QueryAnswer } from '../collectors/client.ts';
import type { Answer } from './execution/run.ts';
import type { Grid } from './grid.ts';

/**
 * A shard's answer the router computed itself (a shard in "merge" mode, lib/replicas): its series as
 * objects, which the engine reads as they are rather than through JSON written and scanned again.
 */
export interface ComputedAnswer {
  readonly computed: Extract<Answer, { type: 'vector' | 'matrix' }>;
  readonly warnings: readonly string[];
  /** The same answer as a collector's JSON, for answers passed on as they are (a leaf's union). */
  json(): QueryAnswer;
}

/** A collector's answer as read, or one the router computed. */
export type ShardQueryAnswer = QueryAnswer | ComputedAnswer;

export function isComputed(answer: ShardQueryAnswer): answer is ComputedAnswer {
  return 'computed' in answer;
}

/** The answer as a collector's JSON (written now for a computed one). */
export function asJson(answer: ShardQueryAnswer): QueryAnswer {
  return isComputed(answer) ? answer.json() : answer;
}

export interface Remote {
  /** The shard label's name, which the engine adds to the shards' series. */
  readonly shardLabel: string;
  /**
   * One shard's answer to `query` on `grid` (an instant query where the grid has one step). Rejects
   * with an ApiError naming the shard: a shard failure (unavailable, timeout) or an error about the
   * query itself.
   */
  query(shard: string, query: string, grid: Grid): Promise<ShardQueryAnswer>;
}
