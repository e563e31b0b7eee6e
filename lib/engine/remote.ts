// What the engine needs from the collectors' side to fetch its leaves (after promql-engine's
// RemoteEngine): one shard's answer to one query, read and checked. The API layer implements it over
// the collectors' client for the request at hand (its deadline, trace and limits).
import type { QueryAnswer } from '../collectors/client.ts';
import type { Grid } from './grid.ts';

export interface Remote {
  /** The shard label's name, which the engine adds to the shards' series. */
  readonly shardLabel: string;
  /**
   * One shard's answer to `query` on `grid` (an instant query where the grid has one step). Rejects
   * with an ApiError naming the shard: a shard failure (unavailable, timeout) or an error about the
   * query itself.
   */
  query(shard: string, query: string, grid: Grid): Promise<QueryAnswer>;
}
