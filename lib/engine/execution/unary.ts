// Unary minus and the merge of per-shard mean and variance partials.
import type { Major } from '../../promql/function-table.ts';
import { infiniteMeanStays, kahanSumInc } from '../kernels/range.ts';
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

/** One shard's partial aggregate of a group: its sample count, mean, and sum (avg) or variance (stddev). */
interface Part {
  readonly n: number;
  readonly mean: number;
  readonly other: number;
}

/**
 * avg, stddev and stdvar from each shard's partial rows per group: count, mean, and the sum (avg) or
 * the population variance (stddev/stdvar). Each shard answers one row per group in each leaf, in the
 * same (shard map) order, so the i-th row of a group in each leaf is the same shard's.
 *
 * avg divides the summed sums by the summed counts while that sum is finite (what a single pass gives
 * for ordinary values). Where it overflows, the shards' means are combined incrementally instead, as
 * Prometheus averages (2.x always, 3.x once its sum overflows), which stays finite for values near the
 * float maximum.
 *
 * The variance merges the shards pairwise (Chan et al.): mean += δ·n_b/n, M2 += M2_b + δ²·n_a·n_b/n
 * with δ = mean_b − mean_a. Equal values give δ = 0 exactly, so their variance is exactly 0, as a
 * single pass gives it, where a sum of squares around a recomputed mean leaves rounding noise.
 */
export class MergeMomentsOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series = new SeriesTable();
  private readonly groupOf = [new IdMap(), new IdMap(), new IdMap()];

  constructor(
    private readonly op: 'avg' | 'stddev' | 'stdvar',
    private readonly count: VectorOperator,
    private readonly mean: VectorOperator,
    /** Per-shard sums (avg) or variances (stddev/stdvar). */
    private readonly other: VectorOperator,
    /** 3.x adds the shards' sums with Kahan compensation, as it sums values. */
    private readonly major: Major = 2,
  ) {}

  async next(): Promise<StepVector[] | null> {
    const counts = await this.count.next();
    const means = await this.mean.next();
    const others = await this.other.next();
    if (counts === null || means === null || others === null) return null;
    return counts.map((step, i) => {
      const meanRows = this.rows(1, this.mean, means[i]!);
      const otherRows = this.rows(2, this.other, others[i]!);
      const parts = new Map<number, Part[]>();
      for (let k = 0; k < step.length; k++) {
        const g = this.group(0, this.count, step.ids[k]!);
        let list = parts.get(g);
        if (list === undefined) parts.set(g, (list = []));
        const row = list.length;
        list.push({ n: step.values[k]!, mean: meanRows.get(g)?.[row] ?? NaN, other: otherRows.get(g)?.[row] ?? NaN });
      }
      const out = new StepVector(step.t);
      for (const [g, list] of parts) {
        if (this.op === 'avg') {
          out.push(g, mergedMean(list, this.major));
        } else {
          const variance = mergedVariance(list);
          out.push(g, this.op === 'stddev' ? Math.sqrt(variance) : variance);
        }
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

function mergedMean(parts: readonly Part[], major: Major): number {
  let [sum, c, n] = [0, 0, 0];
  for (const p of parts) {
    if (major === 2) sum += p.other;
    else [sum, c] = kahanSumInc(p.other, sum, c, 3);
    n += p.n;
  }
  if (Number.isFinite(sum)) return (sum + c) / n;
  // Prometheus's incremental mean, a shard's mean standing for its n values.
  let mean = parts[0]!.mean;
  let count = parts[0]!.n;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    count += p.n;
    if (infiniteMeanStays(mean, p.mean)) continue;
    const weight = p.n / count;
    mean += p.mean * weight - mean * weight;
  }
  return mean;
}

function mergedVariance(parts: readonly Part[]): number {
  let n = parts[0]!.n;
  let mean = parts[0]!.mean;
  let m2 = parts[0]!.other * n;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const total = n + p.n;
    const delta = p.mean - mean;
    mean += delta * (p.n / total);
    m2 += p.other * p.n + delta * delta * ((n * p.n) / total);
    n = total;
  }
  return m2 / n;
}
