// A leaf of a shard in "merge" mode: the replicas' raw samples, read through remote read and
// deduplicated series by series (dedup.ts), evaluated by the router (merged-leaf.ts), and handed to the
// engine as series (ComputedAnswer), or as a collector's JSON answer where it is passed on as is. A replica that fails leaves the
// answer to the others, with a warning naming it; only when all fail has the shard failed.
import { ApiError } from '../errors.ts';
import type { AnswerBytes } from '../collectors/answer-bytes.ts';
import { isShardFailure } from '../collectors/failures.ts';
import { scanAnswer } from '../collectors/json-scan.ts';
import { answerData } from '../engine/answer-data.ts';
import type { Grid } from '../engine/grid.ts';
import { LEAF_LABEL } from '../engine/fetch.ts';
import type { Answer } from '../engine/execution/run.ts';
import type { ComputedAnswer } from '../engine/remote.ts';
import { labelsFrom, labelsKey, setLabel } from '../engine/labels.ts';
import type { Expr } from '../promql/ast.ts';
import type { Labels } from '../engine/types.ts';
import { parseQuery } from '../promql/parse.ts';
import type { Shard } from '../shards/schema.ts';
import { dedupReplicas, type ReplicaSamples } from './dedup.ts';
import { mergedForm, selectorMatchers, type MergedForm } from '../engine/merged-form.ts';
import { evaluateMergedLeaf, readRange, type MergedSeries, type SelectionRules } from './merged-leaf.ts';
import { readReplica, type ReadSelection, type ReadBytes, type ReplicaSeries } from './remote-read.ts';

export interface ReplicaIo {
  /** Epoch ms by which the answer must be ready. */
  readonly deadline: number;
  readonly budget: AnswerBytes;
  /** Called once per replica asked: how long it took, whether it answered, what it sent. */
  readonly visited: (ms: number, ok: boolean, bytes: ReadBytes | null) => void;
}

/**
 * One shard's answer to `query` on `grid`, from all its replicas' samples: a merged leaf, or several the
 * engine asks for in one request (`label_replace(q0, LEAF_LABEL, "0", "", "") or ...`, fetch.ts), which
 * become one remote read of several queries.
 */
export async function mergedQuery(shard: Shard, shardLabel: string, query: string, grid: Grid, rules: SelectionRules, io: ReplicaIo): Promise<ComputedAnswer> {
  const leaves = taggedLeaves(parseQuery(query).expr);
  if (leaves === null) throw new ApiError('internal', `shard ${JSON.stringify(shard.name)}: ${JSON.stringify(query)} is not a leaf the router can compute from raw samples`);
  const selections = leaves.map(({ form }): ReadSelection => ({ matchers: selectorMatchers(form.selector), ...readRange(form, grid, rules.lookbackMs) }));
  const { replicas, warnings } = await readAllReplicas(shard, selections, io);
  const answers = leaves.map(({ form, tag }, i) => {
    const answer = seriesAnswer(evaluateMergedLeaf(form, mergeReplicas(replicas.map((r) => r[i]!), selections[i]!.end), grid, rules));
    return tag === null ? answer : tagged(answer, tag);
  });
  const computed = concatAnswers(answers);
  return {
    computed,
    warnings,
    json: () => {
      const body = Buffer.from(JSON.stringify({ status: 'success', data: answerData(computed), warnings }));
      return { body, answer: scanAnswer(body, shardLabel) };
    },
  };
}

interface TaggedLeaf {
  readonly form: MergedForm;
  /** The value of LEAF_LABEL on the leaf's series in a combined request; null alone. */
  readonly tag: string | null;
}

/** The merged leaves of a leaf query, or of the engine's combination of several; null if it is neither. */
function taggedLeaves(expr: Expr): TaggedLeaf[] | null {
  const alone = mergedForm(expr);
  if (alone !== null) return [{ form: alone, tag: null }];
  const sides: Expr[] = [];
  let e = expr;
  while (e.kind === 'binary' && e.op === 'or') {
    sides.unshift(e.rhs);
    e = e.lhs;
  }
  sides.unshift(e);
  const out: TaggedLeaf[] = [];
  for (const side of sides) {
    if (side.kind !== 'call' || side.name !== 'label_replace' || side.args.length !== 5) return null;
    const [inner, label, tag] = side.args;
    const form = mergedForm(inner!);
    if (form === null || label?.kind !== 'string' || label.value !== LEAF_LABEL || tag?.kind !== 'string') return null;
    out.push({ form, tag: tag.value });
  }
  return out;
}

type SeriesAnswer = ComputedAnswer['computed'];

/** A merged leaf's answer, always a vector or a matrix. */
function seriesAnswer(answer: Answer): SeriesAnswer {
  if (answer.type === 'vector' || answer.type === 'matrix') return answer;
  throw new ApiError('internal', `a merged leaf answered a ${answer.type}`);
}

function tagged(answer: SeriesAnswer, tag: string): SeriesAnswer {
  const label = (labels: Labels) => setLabel(labels, LEAF_LABEL, tag);
  if (answer.type === 'vector') return { ...answer, samples: answer.samples.map((s) => ({ ...s, labels: label(s.labels) })) };
  return { ...answer, series: answer.series.map((s) => ({ ...s, labels: label(s.labels) })) };
}

/** The answers of one request's leaves as one (all vectors, or all matrices: they share a grid). */
function concatAnswers(answers: readonly SeriesAnswer[]): SeriesAnswer {
  const first = answers[0]!;
  if (answers.length === 1) return first;
  if (first.type === 'vector') return { ...first, samples: answers.flatMap((a) => (a.type === 'vector' ? a.samples : [])) };
  return { type: 'matrix', series: answers.flatMap((a) => (a.type === 'matrix' ? a.series : [])) };
}

/**
 * Every replica's series for `selections`, in replica order, leaving out replicas that failed (with a
 * warning each). Errors about the request itself (a replica refusing the matchers) fail it at once.
 */
export async function readAllReplicas(shard: Shard, selections: readonly ReadSelection[], io: ReplicaIo): Promise<{ replicas: ReplicaSeries[][][]; warnings: string[] }> {
  const outcomes = await Promise.allSettled(shard.urls.map(async (_url, replica) => {
    const started = performance.now();
    try {
      const { series, bytes } = await readReplica(shard, replica, selections, io.deadline, io.budget);
      io.visited(performance.now() - started, true, bytes);
      return series;
    } catch (err) {
      io.visited(performance.now() - started, false, null);
      throw err;
    }
  }));
  return settleReplicas(outcomes);
}

/**
 * The answers of a shard's replicas where some may have failed: a failure about the request fails it,
 * a failing replica is a warning while another answered, and all failing is the shard's failure.
 */
export function settleReplicas<T>(outcomes: readonly PromiseSettledResult<T>[]): { replicas: T[]; warnings: string[] } {
  const replicas: T[] = [];
  const failures: ApiError[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') replicas.push(outcome.value);
    else if (isShardFailure(outcome.reason)) failures.push(outcome.reason);
    else throw outcome.reason;
  }
  if (replicas.length === 0) {
    const first = failures[0]!;
    throw failures.length === 1 ? first : new ApiError(first.errorType, failures.map((f) => f.message).join('; '), first.status);
  }
  const warnings = failures.map((f) => `a replica did not answer, the others did (the data may have holes): ${f.message}`);
  return { replicas, warnings };
}

/**
 * One series per label set from all replicas, each deduplicated across the replicas that have it;
 * `end` is the end of the time range read (see dedupReplicas).
 */
export function mergeReplicas(replicas: readonly (readonly ReplicaSeries[])[], end: number): MergedSeries[] {
  const bySeries = new Map<string, { labels: Labels; parts: ReplicaSamples[] }>();
  for (const series of replicas) {
    for (const s of series) {
      if (s.timestamps.length === 0) continue; // no float sample in the range (a native histogram in SAMPLES)
      const labels = labelsFrom(s.labels.map((l) => [l.name, l.value]));
      const key = labelsKey(labels);
      let entry = bySeries.get(key);
      if (entry === undefined) bySeries.set(key, (entry = { labels, parts: [] }));
      entry.parts.push(s);
    }
  }
  return [...bySeries.values()].map(({ labels, parts }) => ({ labels, ...dedupReplicas(parts, end) }));
}
