// Asks the shards for the leaves of a query: each leaf from each shard it reads, on the leaf's grid,
// a bounded number of requests at a time. Shards that cannot answer are left out of every leaf (a
// partial answer with a warning each) unless the caller wants all or nothing. Answers stay as the
// shards sent them (bytes, scanned) until the engine decodes them or passes them on; those the router
// computed itself (shards in "merge" mode) stay as the objects they are (ComputedAnswer).
import { EvaluationError } from '../errors.ts';
import { decodeSamples } from '../collectors/decode.ts';
import type { ScannedSeries } from '../collectors/json-scan.ts';
import { fanOut, partialWarnings } from '../collectors/failures.ts';
import { withShardLabel } from '../shard-label/edit.ts';
import { translatedLabels } from '../shards/shard-label-names.ts';
import type { SampleBudget } from './budget.ts';
import type { LeafSeries } from './execution/leaf.ts';
import type { Leaf } from './expr.ts';
import { gridSize, MAX_POINTS_PER_SERIES, type Grid } from './grid.ts';
import { labelsFrom } from './labels.ts';
import { isComputed, type ComputedAnswer, type Remote, type ShardQueryAnswer } from './remote.ts';
import type { Labels, Point } from './types.ts';


export interface FetchOptions {
  /** Answer with the shards that did answer (and a warning per failed shard) instead of failing. */
  readonly partial: boolean;
  /** At most this many requests at once to one shard for one query. */
  readonly shardConcurrency: number;
  /** At most this many requests to any one shard for the query (checked before any is sent). */
  readonly maxRequestsPerShard: number;
}

/** One shard's answer to a leaf: one answer per part of the grid, in time order. */
export interface ShardAnswer {
  readonly shard: string;
  /** The shard label value to add to the answer's series; null where the leaf's labels are exact as they are. */
  readonly addLabel: string | null;
  /** Where several leaves were asked in one request: the value of LEAF_LABEL on this leaf's series. */
  readonly tag: string | null;
  readonly answers: readonly ShardQueryAnswer[];
}

export interface Fetched {
  /** Each leaf's answers from every shard that answered, in shard map order. */
  readonly leaves: ReadonlyMap<number, readonly ShardAnswer[]>;
  /** The shards' own warnings and one per failed shard. */
  readonly warnings: readonly string[];
}

/**
 * Marks each leaf's series where one request asks a shard for several leaves (`A or B` with each side
 * labelled): a reserved name, as scraped series never carry labels starting with `__` but `__name__`.
 */
export const LEAF_LABEL = '__prome_route_leaf__';

/** One request to one shard: a leaf's query, or several leaves' queries on one grid combined. */
interface ShardRequest {
  readonly shard: string;
  readonly grid: Grid;
  readonly query: string;
  readonly leaves: readonly { readonly leaf: Leaf; readonly tag: string | null }[];
}

export async function fetchLeaves(remote: Remote, leaves: readonly Leaf[], grids: ReadonlyMap<number, Grid>, options: FetchOptions): Promise<Fetched> {
  const requests = plan(leaves, grids);
  checkRequestsPerShard(requests, options.maxRequestsPerShard);
  const answers = new Map<ShardRequest, ShardQueryAnswer[]>(); // one per grid part
  const jobs = requests.flatMap((request) => splitGrid(request.grid).map((grid, part) => ({ request, grid, part })));
  const fanOutOptions = { concurrency: options.shardConcurrency, partial: options.partial };
  const failed = await fanOut(jobs, (job) => job.request.shard, fanOutOptions, async ({ request, grid, part }) => {
    const answer = await remote.query(request.shard, request.query, grid);
    const list = answers.get(request) ?? [];
    list[part] = answer;
    answers.set(request, list);
  });
  const warnings: string[] = [];
  const byLeafAndShard = new Map<string, ShardAnswer>();
  for (const request of requests) {
    if (failed.has(request.shard)) continue;
    const list = answers.get(request) ?? [];
    for (const a of list) for (const w of isComputed(a) ? a.warnings : a.answer.warnings) warnings.push(`shard ${JSON.stringify(request.shard)}: ${w}`);
    for (const { leaf, tag } of request.leaves) {
      byLeafAndShard.set(`${leaf.id}/${request.shard}`, { shard: request.shard, addLabel: leaf.plan.forShard(request.shard).addLabel, tag, answers: list });
    }
  }
  // Shards in map order for every leaf, so partial rows of one group line up across leaves.
  const byLeaf = new Map<number, ShardAnswer[]>();
  for (const leaf of leaves) {
    byLeaf.set(leaf.id, leaf.shards.filter((s) => !failed.has(s)).map((s) => byLeafAndShard.get(`${leaf.id}/${s}`)!));
  }
  return { leaves: byLeaf, warnings: [...warnings, ...partialWarnings(failed)] };
}

/**
 * The requests for a query's leaves: per shard and grid, one request for all the leaves asked there.
 * Leaves with the same query share a tag (and an answer); several distinct queries are combined into
 * `label_replace(q0, LEAF_LABEL, "0", "", "") or label_replace(q1, ...)`: each side is evaluated as it
 * would be alone, and the distinct label keeps `or` from matching across sides. A dashboard's
 * `sum(a) / sum(b)` costs one request per shard instead of two; 100 terms, one instead of 100.
 */
function plan(leaves: readonly Leaf[], grids: ReadonlyMap<number, Grid>): ShardRequest[] {
  const groups = new Map<string, { shard: string; grid: Grid; queries: Map<string, Leaf[]> }>();
  for (const leaf of leaves) {
    const grid = grids.get(leaf.id)!;
    for (const shard of leaf.shards) {
      const query = leaf.plan.forShard(shard).query;
      // A range selector cannot go inside label_replace: a raw leaf is asked alone (or with its twins).
      const key = `${shard}\u0000${grid.start}/${grid.end}/${grid.step}${leaf.raw === true ? `\u0000${query}` : ''}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { shard, grid, queries: new Map() }));
      const same = group.queries.get(query);
      if (same === undefined) group.queries.set(query, [leaf]);
      else same.push(leaf);
    }
  }
  return [...groups.values()].map(({ shard, grid, queries }) => {
    if (queries.size === 1) {
      const [query, sharing] = [...queries][0]!;
      return { shard, grid, query, leaves: sharing.map((leaf) => ({ leaf, tag: null })) };
    }
    const sides = [...queries.keys()].map((q, i) => `label_replace(${q.includes('#') ? `${q}\n` : q}, ${JSON.stringify(LEAF_LABEL)}, "${i}", "", "")`);
    const tagged = [...queries.values()].flatMap((sharing, i) => sharing.map((leaf) => ({ leaf, tag: String(i) })));
    return { shard, grid, query: sides.join(' or '), leaves: tagged };
  });
}

/**
 * One query must not turn into thousands of collector requests (a subquery with a tiny step over a long
 * range is split into parts of 11,000 points each): refused before any request is sent.
 */
function checkRequestsPerShard(requests: readonly ShardRequest[], limit: number): void {
  const perShard = new Map<string, number>();
  for (const { shard, grid } of requests) perShard.set(shard, (perShard.get(shard) ?? 0) + Math.ceil(gridSize(grid) / MAX_POINTS_PER_SERIES));
  for (const [shard, requests] of perShard) {
    if (requests > limit) {
      throw new EvaluationError(`the query needs ${requests} requests to shard ${JSON.stringify(shard)}, the limit is ${limit} per shard: use a shorter range or a larger subquery step`);
    }
  }
}

/**
 * A leaf's series placed on the grid it was fetched on: the shards' series in order, each with the
 * shard label added where it belongs (a collector's own kept as `original_<label>`), samples off the
 * grid left out. A series split over several requests (grids longer than one request takes) is one.
 */
export function leafSeries(answers: readonly ShardAnswer[], shardLabel: string, grid: Grid, budget: SampleBudget): LeafSeries[] {
  const steps = gridSize(grid);
  const stepIndex = (ms: number): number => {
    const index = grid.step > 0 ? (ms - grid.start) / grid.step : ms === grid.start ? 0 : -1;
    return Number.isInteger(index) && index >= 0 && index < steps ? index : -1;
  };
  const out: LeafSeries[] = [];
  for (const { addLabel, tag, answers: parts } of answers) {
    const bySeries = parts.length > 1 ? new Map<string, number>() : null;
    for (const part of parts) {
      if (isComputed(part)) {
        for (const { labels, points } of computedSeries(part, tag)) {
          add(shardLabels(labels, shardLabel, addLabel), onGrid(points, stepIndex));
        }
        continue;
      }
      const { body, answer } = part;
      if (answer.resultType === 'scalar') {
        out.push({ labels: {}, ...decodeSamples(body, answer.result!, stepIndex) });
        budget.charge(1);
        continue;
      }
      if (answer.resultType !== 'vector' && answer.resultType !== 'matrix') {
        throw new EvaluationError(`a shard answered a ${answer.resultType} where the router expected series`);
      }
      for (const s of answer.series) {
        if (s.samples === null) continue; // native histograms only: the router evaluates floats
        const labels = scannedLabels(body, s, tag, shardLabel, addLabel);
        if (labels !== null) add(labels, decodeSamples(body, s.samples, stepIndex));
      }
    }

    function add(labels: Labels, samples: { steps: Int32Array; values: Float64Array }): void {
      budget.charge(samples.values.length);
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
  return out;
}

/**
 * A raw leaf's series (a range selector asked as an instant query): every sample with its own time,
 * the shard label added as for other leaves.
 */
export function rawSeries(answers: readonly ShardAnswer[], shardLabel: string, budget: SampleBudget): { labels: Labels; points: Point[] }[] {
  const out: { labels: Labels; points: Point[] }[] = [];
  for (const { addLabel, tag, answers: parts } of answers) {
    for (const part of parts) {
      if (isComputed(part)) {
        if (part.computed.type !== 'matrix') throw new EvaluationError(`a shard answered a ${part.computed.type} where the router expected a range vector`);
        for (const { labels, points } of computedSeries(part, tag)) {
          budget.charge(points.length);
          out.push({ labels: shardLabels(labels, shardLabel, addLabel), points });
        }
        continue;
      }
      const { body, answer } = part;
      if (answer.resultType !== 'matrix') throw new EvaluationError(`a shard answered a ${answer.resultType} where the router expected a range vector`);
      for (const s of answer.series) {
        if (s.samples === null) continue; // native histograms only: the router evaluates floats
        const labels = scannedLabels(body, s, tag, shardLabel, addLabel);
        if (labels === null) continue;
        // Each sample's own time: the "step" decodeSamples hands out is its index in `times`.
        const times: number[] = [];
        const { steps, values } = decodeSamples(body, s.samples, (ms) => times.push(ms) - 1);
        budget.charge(values.length);
        const points = Array.from(steps, (i, k) => ({ t: times[i]!, v: values[k]! }));
        out.push({ labels, points });
      }
    }
  }
  return out;
}

/** A computed answer's series as points, those of other leaves (in a combined answer) left out, LEAF_LABEL removed. */
function computedSeries({ computed }: ComputedAnswer, tag: string | null): { labels: Labels; points: Point[] }[] {
  const all = computed.type === 'matrix' ? computed.series : computed.samples.map(({ labels, value }) => ({ labels, points: [{ t: computed.t, v: value }] }));
  if (tag === null) return [...all];
  return all.filter((s) => s.labels[LEAF_LABEL] === tag).map(({ labels: { [LEAF_LABEL]: _tag, ...labels }, points }) => ({ labels, points }));
}

/** A computed series' labels with the shard label rule applied, as for a collector's (withShardLabel). */
/**
 * A scanned series' label set as the global Prometheus shows it (the shard label rule applied where
 * the router adds the label or the collector's labels need translating); null for another leaf's
 * series in a combined answer. LEAF_LABEL is removed.
 */
function scannedLabels(body: Buffer, s: ScannedSeries, tag: string | null, shardLabel: string, addLabel: string | null): Labels | null {
  const metric = JSON.parse(body.toString('utf8', s.metric.from, s.metric.to)) as Record<string, string>;
  if (tag !== null) {
    if (metric[LEAF_LABEL] !== tag) return null;
    delete metric[LEAF_LABEL];
  }
  return labelsFrom(Object.entries(addLabel === null && !s.translated ? metric : withShardLabel(metric, shardLabel, addLabel)));
}

function shardLabels(labels: Labels, shardLabel: string, addLabel: string | null): Labels {
  if (addLabel === null && !translatedLabels(shardLabel).some((name) => name in labels)) return labels;
  return labelsFrom(Object.entries(withShardLabel({ ...labels }, shardLabel, addLabel)));
}

/** Points on the grid as steps and values (decodeSamples's form), points off the grid left out. */
function onGrid(points: readonly Point[], stepIndex: (ms: number) => number): { steps: Int32Array; values: Float64Array } {
  const steps = new Int32Array(points.length);
  const values = new Float64Array(points.length);
  let n = 0;
  for (const { t, v } of points) {
    const step = stepIndex(t);
    if (step < 0) continue;
    steps[n] = step;
    values[n++] = v;
  }
  return { steps: steps.slice(0, n), values: values.slice(0, n) };
}

function concat<T extends Int32Array | Float64Array>(type: { new(n: number): T }, a: T, b: T): T {
  const out = new type(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The grid in parts of at most 11,000 points, without listing its timestamps. */
function splitGrid(grid: Grid): Grid[] {
  const points = gridSize(grid);
  if (points <= MAX_POINTS_PER_SERIES) return points === 0 ? [] : [grid];
  const parts: Grid[] = [];
  for (let first = 0; first < points; first += MAX_POINTS_PER_SERIES) {
    const last = Math.min(points, first + MAX_POINTS_PER_SERIES) - 1;
    parts.push({ start: grid.start + first * grid.step, end: grid.start + last * grid.step, step: grid.step });
  }
  return parts;
}
