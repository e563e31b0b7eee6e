// Unary minus and the merge of per-shard variance partials.
import { dropMetricName } from '../labels.ts';
import type { ScalarOperator, VectorOperator } from './operator.ts';
import { Relabel } from './binary.ts';
import { IdMap, SeriesTable } from './series-table.ts';
import { StepVector } from './step-vector.ts';

export class NegateScalar implements ScalarOperator {
  readonly type = 'scalar';

  constructor(private readonly input: ScalarOperator) {}

  async next(): Promise<Float64Array | null> {
    const values = await this.input.next();
    if (values !== null) for (let i = 0; i < values.length; i++) values[i] = -values[i]!;
    return values;
  }
}

/** `-v`: the metric name goes, so two series differing only in name collide (an error where they meet). */
export class NegateVector implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly relabel: Relabel;

  constructor(private readonly input: VectorOperator) {
    this.relabel = new Relabel(input.series, dropMetricName);
    this.series = this.relabel.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    if (batch === null) return null;
    return batch.map((step) => {
      const out = new StepVector(step.t);
      this.relabel.startStep();
      for (let k = 0; k < step.length; k++) out.push(this.relabel.unique(step.ids[k]!), -step.values[k]!);
      return out;
    });
  }
}

/**
 * stddev/stdvar from each shard's count, mean and variance rows per group (Chan et al.'s parallel
 * algorithm): the combined variance is Σ n_i·(var_i + (mean_i − mean)²) / n, which stays stable where
 * a sum of squares would cancel. Each shard answers one row per group in each of the three leaves, in
 * the same (shard map) order, so the i-th row of a group in each leaf is the same shard's.
 */
export class MergeVarianceOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series = new SeriesTable();
  private readonly groupOf = [new IdMap(), new IdMap(), new IdMap()];

  constructor(
    private readonly op: 'stddev' | 'stdvar',
    private readonly count: VectorOperator,
    private readonly mean: VectorOperator,
    private readonly variance: VectorOperator,
  ) {}

  async next(): Promise<StepVector[] | null> {
    const counts = await this.count.next();
    const means = await this.mean.next();
    const variances = await this.variance.next();
    if (counts === null || means === null || variances === null) return null;
    return counts.map((step, i) => {
      const meanRows = this.rows(1, this.mean, means[i]!);
      const varianceRows = this.rows(2, this.variance, variances[i]!);
      const parts = new Map<number, { n: number; mean: number; variance: number }[]>();
      for (let k = 0; k < step.length; k++) {
        const g = this.group(0, this.count, step.ids[k]!);
        let list = parts.get(g);
        if (list === undefined) parts.set(g, (list = []));
        const row = list.length;
        list.push({ n: step.values[k]!, mean: meanRows.get(g)?.[row] ?? NaN, variance: varianceRows.get(g)?.[row] ?? NaN });
      }
      const out = new StepVector(step.t);
      for (const [g, list] of parts) {
        const n = list.reduce((sum, p) => sum + p.n, 0);
        const mean = list.reduce((sum, p) => sum + p.n * p.mean, 0) / n;
        const variance = list.reduce((sum, p) => sum + p.n * (p.variance + (p.mean - mean) ** 2), 0) / n;
        out.push(g, this.op === 'stddev' ? Math.sqrt(variance) : variance);
      }
      return out;
    });
  }

  private rows(input: number, operator: VectorOperator, step: StepVector): Map<number, number[]> {
    const rows = new Map<number, number[]>();
    for (let k = 0; k < step.length; k++) {
      const g = this.group(input, operator, step.ids[k]!);
      let list = rows.get(g);
      if (list === undefined) rows.set(g, (list = []));
      list.push(step.values[k]!);
    }
    return rows;
  }

  /** The three leaves have the same groups under their own ids: one numbering by label set. */
  private group(input: number, operator: VectorOperator, id: number): number {
    const map = this.groupOf[input]!;
    let g = map.get(id);
    if (g < 0) map.set(id, (g = this.series.intern(operator.series.labels[id]!)));
    return g;
  }
}
