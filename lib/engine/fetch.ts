// Asks the shards for the leaves of a query: each leaf from each shard it reads, on the leaf's grid,
// a bounded number of requests at a time. Shards that cannot answer are left out of every leaf (a
// partial answer with a warning each) unless the caller wants all or nothing.
import type { ApiError } from '../api/envelope.ts';
import { isShardFailure, partialWarnings, throwIfFailed } from '../collectors/failures.ts';
import { askShardJson, type RequestContext } from '../api/context.ts';
import { inBatches } from '../collectors/batches.ts';
import type { Leaf } from './expr.ts';
import { gridTimes, type Grid } from './grid.ts';
import { labelsFrom } from './labels.ts';
import { EvaluationError, type Labels } from './types.ts';

/** Prometheus refuses range queries with more points per series than this; longer grids are split. */
const MAX_POINTS_PER_REQUEST = 11_000;

export interface FetchOptions {
  /** Answer with the shards that did answer (and a warning per failed shard) instead of failing. */
  readonly partial: boolean;
  /** At most this many collector requests at once for one query. */
  readonly concurrency: number;
}

export interface Fetched {
  /** Each leaf's series from every shard that answered. */
  readonly data: ReadonlyMap<number, readonly FetchedSeries[]>;
  readonly warnings: readonly string[];
}

interface RawSeries { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }

/**
 * A series as a shard sent it, with the shard label added where it belongs: timestamps in seconds and
 * values as Prometheus printed them, so an answer that is only a union is passed on without reformatting.
 */
export interface FetchedSeries {
  readonly labels: Labels;
  readonly values: readonly (readonly [number, string])[];
}

type ShardSeries = FetchedSeries[];

export async function fetchLeaves(
  ctx: RequestContext,
  leaves: readonly Leaf[],
  grids: ReadonlyMap<number, Grid>,
  options: FetchOptions,
): Promise<Fetched> {
  const answers = new Map<string, ShardSeries>(); // `${leaf}/${shard}` -> series
  const failed = new Map<string, ApiError>();
  const jobs = leaves.flatMap((leaf) => leaf.shards.map((shard) => ({ leaf, shard })));
  await inBatches(jobs, options.concurrency, async ({ leaf, shard }) => {
    if (failed.has(shard)) return;
    try {
      answers.set(`${leaf.id}/${shard}`, await fetchLeaf(ctx, leaf, shard, grids.get(leaf.id)!));
    } catch (err) {
      if (!isShardFailure(err)) throw err;
      failed.set(shard, err);
    }
  });
  throwIfFailed(failed, new Set(jobs.map((j) => j.shard)).size, options.partial);
  // Shards in map order for every leaf, so partial rows of one group line up across leaves.
  const data = new Map<number, FetchedSeries[]>();
  for (const leaf of leaves) {
    data.set(leaf.id, leaf.shards.filter((s) => !failed.has(s)).flatMap((s) => answers.get(`${leaf.id}/${s}`) ?? []));
  }
  return { data, warnings: partialWarnings(failed) };
}

async function fetchLeaf(ctx: RequestContext, leaf: Leaf, shard: string, grid: Grid): Promise<ShardSeries> {
  const { query, addLabel } = leaf.plan.forShard(shard);
  const out: ShardSeries = [];
  for (const part of splitGrid(grid)) {
    const instant = part.start === part.end;
    const params = new URLSearchParams({ query });
    if (instant) {
      params.set('time', seconds(part.start));
    } else {
      params.set('start', seconds(part.start));
      params.set('end', seconds(part.end));
      params.set('step', seconds(part.step));
    }
    const path = instant ? '/api/v1/query' : '/api/v1/query_range';
    const { data } = await askShardJson<{ resultType: string; result: unknown }>(ctx, { shard, path, params, method: 'POST' });
    out.push(...toSeries(data, addLabel === null ? null : [ctx.map.shardLabel, addLabel]));
  }
  return out;
}

function toSeries(data: { resultType: string; result: unknown }, add: [string, string] | null): ShardSeries {
  const labelsOf = (metric: Record<string, string>): Labels =>
    labelsFrom(add === null ? Object.entries(metric) : [...Object.entries(metric), add]);
  switch (data.resultType) {
    case 'vector':
      return (data.result as RawSeries[]).map((s) => ({ labels: labelsOf(s.metric), values: [s.value!] }));
    case 'matrix':
      return (data.result as RawSeries[]).map((s) => ({ labels: labelsOf(s.metric), values: s.values ?? [] }));
    case 'scalar':
      return [{ labels: {}, values: [data.result as [number, string]] }];
    default:
      throw new EvaluationError(`a shard answered a ${data.resultType} where the router expected series`);
  }
}

function splitGrid(grid: Grid): Grid[] {
  const times = gridTimes(grid);
  if (times.length <= MAX_POINTS_PER_REQUEST) return times.length === 0 ? [] : [grid];
  const parts: Grid[] = [];
  for (let i = 0; i < times.length; i += MAX_POINTS_PER_REQUEST) {
    const chunk = times.slice(i, i + MAX_POINTS_PER_REQUEST);
    parts.push({ start: chunk[0]!, end: chunk[chunk.length - 1]!, step: grid.step });
  }
  return parts;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
