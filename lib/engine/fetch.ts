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
import type { SampleBudget } from './budget.ts';
import { gridSize, type Grid } from './grid.ts';
import { labelsFrom } from './labels.ts';
import { EvaluationError, type Labels } from './types.ts';

/** Prometheus refuses range queries with more points per series than this; longer grids are split. */
const MAX_POINTS_PER_REQUEST = 11_000;

export interface FetchOptions {
  /** Answer with the shards that did answer (and a warning per failed shard) instead of failing. */
  readonly partial: boolean;
  /** At most this many collector requests at once for one query. */
  readonly concurrency: number;
  /** At most this many requests to any one shard for the query (checked before any is sent). */
  readonly maxRequestsPerShard: number;
  /** Charged with every sample fetched. */
  readonly budget: SampleBudget;
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
  // Identical leaves (the same query on the same grid, as in `sum(x) / sum(x) * 100`) are fetched once.
  const fetches = new Map<string, { leaf: Leaf; grid: Grid }>();
  const fetchOf = new Map<number, string>();
  for (const leaf of leaves) {
    const grid = grids.get(leaf.id)!;
    const key = `${grid.start}/${grid.end}/${grid.step} ${leaf.plan.text}`;
    fetchOf.set(leaf.id, key);
    if (!fetches.has(key)) fetches.set(key, { leaf, grid });
  }
  checkRequestsPerShard([...fetches.values()], options.maxRequestsPerShard);

  const answers = new Map<string, ShardSeries>(); // `${fetch key}\0${shard}` -> series
  const failed = new Map<string, ApiError>();
  const jobs = [...fetches].flatMap(([key, { leaf, grid }]) => leaf.shards.map((shard) => ({ key, leaf, grid, shard })));
  await inBatches(jobs, options.concurrency, async ({ key, leaf, grid, shard }) => {
    if (failed.has(shard)) return;
    try {
      answers.set(`${key}\0${shard}`, await fetchLeaf(ctx, leaf, shard, grid, options.budget));
    } catch (err) {
      if (!isShardFailure(err)) throw err;
      failed.set(shard, err);
    }
  });
  throwIfFailed(failed, new Set(jobs.map((j) => j.shard)).size, options.partial);
  // Shards in map order for every leaf, so partial rows of one group line up across leaves.
  const data = new Map<number, FetchedSeries[]>();
  for (const leaf of leaves) {
    const key = fetchOf.get(leaf.id)!;
    data.set(leaf.id, leaf.shards.filter((s) => !failed.has(s)).flatMap((s) => answers.get(`${key}\0${s}`) ?? []));
  }
  return { data, warnings: partialWarnings(failed) };
}

/**
 * One query must not turn into thousands of collector requests (a long query of distinct parts, a
 * subquery with a tiny step over a long range): refused before any request is sent.
 */
function checkRequestsPerShard(fetches: readonly { leaf: Leaf; grid: Grid }[], limit: number): void {
  const perShard = new Map<string, number>();
  for (const { leaf, grid } of fetches) {
    const parts = Math.ceil(gridSize(grid) / MAX_POINTS_PER_REQUEST);
    for (const shard of leaf.shards) perShard.set(shard, (perShard.get(shard) ?? 0) + parts);
  }
  for (const [shard, requests] of perShard) {
    if (requests > limit) {
      throw new EvaluationError(`the query needs ${requests} requests to shard ${JSON.stringify(shard)}, the limit is ${limit} per shard: use fewer distinct subexpressions that read series, a shorter range or a larger subquery step`);
    }
  }
}

async function fetchLeaf(ctx: RequestContext, leaf: Leaf, shard: string, grid: Grid, budget: SampleBudget): Promise<ShardSeries> {
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
    for (const series of toSeries(shard, data, addLabel === null ? null : [ctx.map.shardLabel, addLabel])) {
      budget.charge(series.values.length);
      out.push(series);
    }
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

/** The grid in parts of at most 11,000 points, without listing its timestamps. */
function splitGrid(grid: Grid): Grid[] {
  const points = gridSize(grid);
  if (points <= MAX_POINTS_PER_REQUEST) return points === 0 ? [] : [grid];
  const parts: Grid[] = [];
  for (let first = 0; first < points; first += MAX_POINTS_PER_REQUEST) {
    const last = Math.min(points, first + MAX_POINTS_PER_REQUEST) - 1;
    parts.push({ start: grid.start + first * grid.step, end: grid.start + last * grid.step, step: grid.step });
  }
  return parts;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
