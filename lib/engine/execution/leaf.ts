// A leaf's answer from the shards, as operator input: series numbered in the order the shards' answers
// came (shard map order, then each answer's order), samples placed on the leaf's grid by step index.
import type { Labels } from '../types.ts';
import { EvaluationError } from '../../errors.ts';
import type { ExecutionContext, VectorOperator } from './operator.ts';
import { StepCursor } from './operator.ts';
import { SeriesTable } from './series-table.ts';
import { emptyBatch, type StepVector } from './step-vector.ts';

/** One series of a leaf: the grid steps it has a sample at, ascending, and the values there. */
export interface LeafSeries {
  readonly labels: Labels;
  readonly steps: Int32Array;
  readonly values: Float64Array;
}

export class LeafOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series = new SeriesTable();
  private readonly cursor: StepCursor;
  /** Per series, the index of its next sample. */
  private readonly read: Int32Array;
  /** Groups of series sharing a label set: two of a group at one step is Prometheus's error. */
  private readonly twins: readonly (readonly number[])[];

  constructor(
    private readonly data: readonly LeafSeries[],
    times: readonly number[],
    ctx: ExecutionContext,
    /** Partial aggregates: rows of one group from several shards are expected, not an error. */
    partial: boolean,
  ) {
    for (const s of data) this.series.add(s.labels);
    this.cursor = new StepCursor(times, ctx.batchSteps);
    this.read = new Int32Array(data.length);
    this.twins = partial ? [] : sameLabelSets(this.series);
  }

  async next(): Promise<StepVector[] | null> {
    const first = this.cursor.position;
    const times = this.cursor.batch();
    if (times === null) return null;
    const end = first + times.length;
    const out = emptyBatch(times);
    // Series in id order, so every step's vector lists its samples in series order.
    for (let id = 0; id < this.data.length; id++) {
      const { steps, values } = this.data[id]!;
      let i = this.read[id]!;
      for (; i < steps.length && steps[i]! < end; i++) out[steps[i]! - first]!.push(id, values[i]!);
      this.read[id] = i;
    }
    if (this.twins.length > 0) checkTwins(this.twins, out);
    return out;
  }
}

function sameLabelSets(series: SeriesTable): number[][] {
  const byKey = new Map<string, number[]>();
  for (let id = 0; id < series.size; id++) {
    const key = series.key(id);
    const ids = byKey.get(key);
    if (ids === undefined) byKey.set(key, [id]);
    else ids.push(id);
  }
  return [...byKey.values()].filter((ids) => ids.length > 1);
}

function checkTwins(twins: readonly (readonly number[])[], batch: readonly StepVector[]): void {
  const present = new Set<number>();
  for (const step of batch) {
    present.clear();
    for (let i = 0; i < step.length; i++) present.add(step.ids[i]!);
    for (const group of twins) {
      let count = 0;
      for (const id of group) if (present.has(id)) count++;
      if (count > 1) throw new EvaluationError('vector cannot contain metrics with the same labelset');
    }
  }
}
