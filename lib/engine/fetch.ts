// Asks the shards for the leaves of a query: each leaf from each shard it reads, on the leaf's grid,
// a bounded number of requests at a time. Shards that cannot answer are left out of every leaf (a
// partial answer with a warning each) unless the caller wants all or nothing.
import type { ApiError } from '../api/envelope.ts';
import { notAnAnswer } from '../collectors/checked-body.ts';
import { isShardFailure, partialWarnings, throwIfFailed } from '../collectors/failures.ts';
import { isLabelSet } from '../merge/labelsets.ts';
import { withShardLabel } from '../merge/shard-label.ts';
import { askShardJson, type RequestContext } from '../api/context.ts';
import { inBatches } from '../collectors/batches.ts';
import type { Leaf } from './expr.ts';
import { gridTimes, type Grid } from './grid.ts';
import { labelsFrom } from './labels.ts';
import type { Labels } from './types.ts';

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

interface RawSeries { metric: unknown; value?: unknown; values?: unknown }

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
    const { data } = await askShardJson<unknown>(ctx, { shard, path, params, method: 'POST' });
    // One at a time: spreading a shard's series into push() overflows the stack past ~100,000.
    for (const series of toSeries(shard, data, addLabel === null ? null : [ctx.map.shardLabel, addLabel])) out.push(series);
  }
  return out;
}

/**
 * A shard's query answer as series, checked on the way: a collector answering another shape (a result
 * that is no array, `metric: null`, samples that are not `[time, "value"]`, nesting bombs) is a shard
 * failure naming the shard, never an internal error.
 */
function toSeries(shard: string, data: unknown, add: [label: string, shard: string] | null): ShardSeries {
  const invalid = (problem: string) => notAnAnswer(shard, problem);
  const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
  if (!Array.isArray(result)) throw invalid('"result" is not an array');
  if (resultType === 'scalar') {
    if (!isSample(result)) throw invalid('a scalar result is not [time, "value"]');
    return [{ labels: {}, values: [result] }];
  }
  if (resultType !== 'vector' && resultType !== 'matrix') throw invalid(`resultType ${JSON.stringify(resultType)} where the router expected series`);
  const out: ShardSeries = [];
  for (const raw of result as RawSeries[]) {
    if (raw === null || typeof raw !== 'object' || raw.metric === null || typeof raw.metric !== 'object' || Array.isArray(raw.metric)) throw invalid('"metric" is not an object');
    if (!isLabelSet(raw.metric)) throw invalid('a label value is not a string');
    const labels = labelsFrom(Object.entries(add === null ? raw.metric : withShardLabel(raw.metric, add[0], add[1])));
    const values = resultType === 'vector' ? (raw.value === undefined ? [] : [raw.value]) : (raw.values ?? []);
    if (!Array.isArray(values) || !values.every(isSample)) throw invalid(`a series' samples are not [time, "value"] pairs`);
    // Native histograms (`histogram`, `histograms`) are not evaluated by the router: such series have no float samples.
    out.push({ labels, values });
  }
  return out;
}

function isSample(value: unknown): value is [number, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string';
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
