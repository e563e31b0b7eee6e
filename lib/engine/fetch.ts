// Asks the shards for the leaves of a query: each leaf from each shard it reads, on the leaf's grid,
// a bounded number of requests at a time. Shards that cannot answer are left out of every leaf (a
// partial answer with a warning each) unless the caller wants all or nothing. Answers stay as the
// shards sent them (bytes, scanned) until the engine decodes them or passes them on.
import type { ApiError } from '../api/envelope.ts';
import type { QueryAnswer } from '../collectors/client.ts';
import { decodeSamples } from '../collectors/decode.ts';
import { isShardFailure, partialWarnings, throwIfFailed } from '../collectors/failures.ts';
import { inBatchesPer } from '../collectors/batches.ts';
import type { LeafSeries } from './execution/leaf.ts';
import type { Leaf } from './expr.ts';
import { gridTimes, type Grid } from './grid.ts';
import { labelsFrom } from './labels.ts';
import type { Remote } from './remote.ts';
import { EvaluationError, type Labels } from './types.ts';

/** Prometheus refuses range queries with more points per series than this; longer grids are split. */
const MAX_POINTS_PER_REQUEST = 11_000;

export interface FetchOptions {
  /** Answer with the shards that did answer (and a warning per failed shard) instead of failing. */
  readonly partial: boolean;
  /** At most this many requests at once to one shard for one query. */
  readonly shardConcurrency: number;
}

/** One shard's answer to a leaf: one answer per part of the grid, in time order. */
export interface ShardAnswer {
  readonly shard: string;
  /** The shard label value to add to the answer's series; null where the leaf's labels are exact as they are. */
  readonly addLabel: string | null;
  readonly answers: readonly QueryAnswer[];
}

export interface Fetched {
  /** Each leaf's answers from every shard that answered, in shard map order. */
  readonly leaves: ReadonlyMap<number, readonly ShardAnswer[]>;
  /** The shards' own warnings and one per failed shard. */
  readonly warnings: readonly string[];
}

export async function fetchLeaves(remote: Remote, leaves: readonly Leaf[], grids: ReadonlyMap<number, Grid>, options: FetchOptions): Promise<Fetched> {
  const answers = new Map<string, QueryAnswer[]>(); // `${leaf}/${shard}` -> one per grid part
  const failed = new Map<string, ApiError>();
  const jobs = leaves.flatMap((leaf) => leaf.shards.flatMap((shard) => splitGrid(grids.get(leaf.id)!).map((grid, part) => ({ leaf, shard, grid, part }))));
  await inBatchesPer(jobs, (job) => job.shard, options.shardConcurrency, async ({ leaf, shard, grid, part }) => {
    if (failed.has(shard)) return;
    try {
      const answer = await remote.query(shard, leaf.plan.forShard(shard).query, grid);
      const key = `${leaf.id}/${shard}`;
      const list = answers.get(key) ?? [];
      list[part] = answer;
      answers.set(key, list);
    } catch (err) {
      if (!isShardFailure(err)) throw err;
      failed.set(shard, err);
    }
  });
  throwIfFailed(failed, new Set(jobs.map((j) => j.shard)).size, options.partial);
  const warnings: string[] = [];
  // Shards in map order for every leaf, so partial rows of one group line up across leaves.
  const byLeaf = new Map<number, ShardAnswer[]>();
  for (const leaf of leaves) {
    const shards = leaf.shards.filter((s) => !failed.has(s));
    byLeaf.set(leaf.id, shards.map((shard) => {
      const list = answers.get(`${leaf.id}/${shard}`) ?? [];
      for (const a of list) for (const w of a.answer.warnings) warnings.push(`shard ${JSON.stringify(shard)}: ${w}`);
      return { shard, addLabel: leaf.plan.forShard(shard).addLabel, answers: list };
    }));
  }
  return { leaves: byLeaf, warnings: [...warnings, ...partialWarnings(failed)] };
}

/**
 * A leaf's series placed on the grid it was fetched on: the shards' series in order, each with the
 * shard label added where it belongs (the router's value replacing a collector's own), samples off the
 * grid left out. A series split over several requests (grids longer than one request takes) is one.
 */
export function leafSeries(answers: readonly ShardAnswer[], shardLabel: string, grid: Grid): LeafSeries[] {
  const steps = gridTimes(grid).length;
  const stepIndex = (ms: number): number => {
    const index = grid.step > 0 ? (ms - grid.start) / grid.step : ms === grid.start ? 0 : -1;
    return Number.isInteger(index) && index >= 0 && index < steps ? index : -1;
  };
  const out: LeafSeries[] = [];
  for (const { addLabel, answers: parts } of answers) {
    const bySeries = parts.length > 1 ? new Map<string, number>() : null;
    for (const { body, answer } of parts) {
      if (answer.resultType === 'scalar') {
        out.push({ labels: {}, ...decodeSamples(body, answer.result!, stepIndex) });
        continue;
      }
      if (answer.resultType !== 'vector' && answer.resultType !== 'matrix') {
        throw new EvaluationError(`a shard answered a ${answer.resultType} where the router expected series`);
      }
      for (const s of answer.series) {
        if (s.samples === null) continue; // native histograms only: the router evaluates floats
        const metric = JSON.parse(body.toString('utf8', s.metric.from, s.metric.to)) as Record<string, string>;
        const labels: Labels = labelsFrom(addLabel === null ? Object.entries(metric) : [...Object.entries(metric).filter(([k]) => k !== shardLabel), [shardLabel, addLabel]]);
        const samples = decodeSamples(body, s.samples, stepIndex);
        const key = bySeries === null ? '' : JSON.stringify(labels);
        const earlier = bySeries?.get(key);
        if (earlier === undefined) {
          bySeries?.set(key, out.length);
          out.push({ labels, ...samples });
        } else {
          const { steps: a, values: v } = out[earlier]!;
          out[earlier] = { labels, steps: concat(Int32Array, a, samples.steps), values: concat(Float64Array, v, samples.values) };
        }
      }
    }
  }
  return out;
}

function concat<T extends Int32Array | Float64Array>(type: { new(n: number): T }, a: T, b: T): T {
  const out = new type(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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
