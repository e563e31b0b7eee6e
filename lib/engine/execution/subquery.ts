// Subqueries and the functions over them: the inner expression is evaluated on the subquery's own grid
// (multiples of its step, aligned to absolute time as Prometheus aligns them), its points kept per
// series, and each outer step sees the points of its window.
import type { Expr } from '../expr.ts';
import { keepsMetricName, rangeArgumentIndex, type Major } from '../../promql/function-table.ts';
import { RANGE_FUNCTIONS, type ScalarArgs } from '../kernels/range.ts';
import { subqueryWindow, type QueryTimes, type StepWindow } from '../grid.ts';
import { dropMetricName } from '../labels.ts';
import type { Point } from '../types.ts';
import { EvaluationError } from '../../errors.ts';
import { Relabel } from './binary.ts';
import type { ExecutionContext, MatrixOperator, Operator, RangeStep, VectorOperator } from './operator.ts';
import { StepCursor } from './operator.ts';
import type { SeriesTable } from './series-table.ts';
import { StepVector } from './step-vector.ts';

type Subquery = Extract<Expr, { kind: 'subquery' }>;

export class SubqueryOperator implements MatrixOperator {
  readonly type = 'matrix';
  private readonly cursor: StepCursor;
  /** Per inner series, its points in time order; filled on the first batch. */
  private points: Point[][] | null = null;

  constructor(
    private readonly sub: Subquery,
    private readonly inner: VectorOperator,
    times: readonly number[],
    private readonly queryTimes: QueryTimes,
    private readonly ctx: ExecutionContext,
  ) {
    this.cursor = new StepCursor(times, ctx.batchSteps);
  }

  get series(): SeriesTable {
    return this.inner.series;
  }

  async next(): Promise<RangeStep[] | null> {
    const points = (this.points ??= await this.collect());
    const times = this.cursor.batch();
    if (times === null) return null;
    return times.map((t) => rangeStep(points, t, this.sub, this.queryTimes));
  }

  private async collect(): Promise<Point[][]> {
    const points: Point[][] = [];
    for (let batch = await this.inner.next(); batch !== null; batch = await this.inner.next()) {
      for (const step of batch) {
        this.ctx.budget.charge(step.length);
        for (let k = 0; k < step.length; k++) (points[step.ids[k]!] ??= []).push({ t: step.t, v: step.values[k]! });
      }
      await this.ctx.yieldPoint();
    }
    // Series that had no point at all still have an id: give them an empty list.
    for (let id = 0; id < this.inner.series.size; id++) points[id] ??= [];
    return points;
  }
}

/**
 * Each series' window at step `t`: its points in `(end - range, end]` (3.x) or `[end - range, end]`
 * (2.x), with `end` the step's time (or the `@` time) less the offset. Series with none are left out.
 */
function rangeStep(points: readonly (readonly Point[])[], t: number, window: StepWindow, times: QueryTimes): RangeStep {
  const { at, startMs, endMs: end } = subqueryWindow(window, t, times);
  // 3.x's windows are open at their start.
  const lowest = startMs + (times.major === 3 ? 1 : 0);
  const windows: { id: number; points: Point[] }[] = [];
  for (let id = 0; id < points.length; id++) {
    const series = points[id]!;
    const from = firstAtOrAfter(series, lowest);
    const to = firstAtOrAfter(series, end + 1);
    if (to > from) windows.push({ id, points: series.slice(from, to) });
  }
  return { t, at, offsetMs: window.offsetMs, rangeMs: window.rangeMs, windows };
}

/**
 * A range selector the router evaluates a function over: the raw samples the shards sent for the
 * whole grid, each step's window cut from them (stale markers are not among them: Prometheus leaves
 * them out of range selectors' answers).
 */
export class RangeLeafOperator implements MatrixOperator {
  readonly type = 'matrix';
  private readonly cursor: StepCursor;
  private readonly points: Point[][];

  constructor(
    readonly series: SeriesTable,
    points: Point[][],
    private readonly window: StepWindow,
    times: readonly number[],
    private readonly queryTimes: QueryTimes,
    ctx: ExecutionContext,
  ) {
    this.points = points;
    this.cursor = new StepCursor(times, ctx.batchSteps);
  }

  async next(): Promise<RangeStep[] | null> {
    const times = this.cursor.batch();
    if (times === null) return null;
    return times.map((t) => rangeStep(this.points, t, this.window, this.queryTimes));
  }
}

/** The index of the first point at or after `t` (points in time order). */
function firstAtOrAfter(points: readonly Point[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Functions over range vectors: each series' window at each step through the per-series
 * implementations of kernels/range.ts. Series with an empty window produce nothing; every function
 * but last_over_time drops the metric name.
 */
export class RangeFunctionOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly relabel: Relabel;
  private readonly matrix: MatrixOperator;

  constructor(private readonly name: string, private readonly args: readonly Operator[], private readonly major: Major) {
    const matrix = args[rangeArgumentIndex(name)];
    if (matrix?.type !== 'matrix') {
      throw new EvaluationError(`expected a range vector in call to function "${name}"`, 'bad_data');
    }
    this.matrix = matrix;
    this.relabel = new Relabel(matrix.series, keepsMetricName(name) ? (labels) => labels : dropMetricName);
    this.series = this.relabel.series;
  }

  async next(): Promise<StepVector[] | null> {
    const steps = await this.matrix.next();
    const columns = await Promise.all(this.args.map((a) => (a.type === 'scalar' ? a.next() : null)));
    if (steps === null) return null;
    const impl = RANGE_FUNCTIONS[this.name]!;
    const scalars: (number | undefined)[] = this.args.map(() => undefined);
    return steps.map((step, i) => {
      for (let a = 0; a < columns.length; a++) scalars[a] = columns[a]?.[i];
      const endMs = step.at - step.offsetMs;
      // predict_linear extrapolates to the step's own time, `@` or not (Prometheus's enh.Ts).
      const window = { evalMs: step.t, startMs: endMs - step.rangeMs, endMs, rangeMs: step.rangeMs, major: this.major };
      const out = new StepVector(step.t);
      this.relabel.startStep();
      for (const w of step.windows) {
        const value = impl(w.points, window, scalars as ScalarArgs);
        if (value !== undefined) out.push(this.relabel.unique(w.id), value);
      }
      return out;
    });
  }
}

/** absent()/absent_over_time(): one sample with the labels derived from the argument, where it is empty. */
export class AbsentOperator implements VectorOperator {
  readonly type = 'vector';

  constructor(private readonly input: VectorOperator | MatrixOperator, readonly series: SeriesTable) {}

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    if (batch === null) return null;
    return batch.map((step) => {
      const empty = 'windows' in step ? step.windows.length === 0 : step.length === 0;
      const out = new StepVector(step.t);
      if (empty) out.push(0, 1);
      return out;
    });
  }
}

