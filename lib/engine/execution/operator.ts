// The execution model, after Thanos's promql-engine: a tree of operators, each yielding the steps of
// its grid in batches. Vector operators number their series once (SeriesTable) and pass samples as
// (series id, value) pairs per step (StepVector); scalars travel as one value per step.
import type { SampleBudget } from '../budget.ts';
import type { Point } from '../types.ts';
import type { QueryTimes } from '../grid.ts';
import type { SeriesTable } from './series-table.ts';
import type { StepVector } from './step-vector.ts';

export interface VectorOperator {
  readonly type: 'vector';
  /** The operator's output series; it may grow while batches are produced. */
  readonly series: SeriesTable;
  /** The vectors of the next steps of the grid, in order, or null once every step was produced. */
  next(): Promise<StepVector[] | null>;
}

export interface ScalarOperator {
  readonly type: 'scalar';
  /** The values of the next steps of the grid, or null once every step was produced. */
  next(): Promise<Float64Array | null>;
}

/** String literals: constant for the whole query. */
export interface StringOperator {
  readonly type: 'string';
  readonly value: string;
}

/** A range vector at one step: each series' points inside the window, in time order. */
export interface RangeStep {
  readonly t: number;
  /** The time the window is read at: the step's, or the `@` time (predict_linear extrapolates to `t`). */
  readonly at: number;
  readonly offsetMs: number;
  readonly rangeMs: number;
  readonly windows: readonly { readonly id: number; readonly points: readonly Point[] }[];
}

/** A subquery: the range vector at each step of the grid. */
export interface MatrixOperator {
  readonly type: 'matrix';
  readonly series: SeriesTable;
  next(): Promise<RangeStep[] | null>;
}

export type Operator = VectorOperator | ScalarOperator | StringOperator | MatrixOperator;

/** What every operator of one query shares. */
export interface ExecutionContext {
  /** Steps per batch. */
  readonly batchSteps: number;
  readonly times: QueryTimes;
  /** Lets other requests run: awaited between batches, returns at once unless the time slice is spent. */
  readonly yieldPoint: () => Promise<void>;
  /** Charged with the samples the query holds (subqueries' points), as Prometheus's query.max-samples. */
  readonly budget: SampleBudget;
}

/** The timestamps of a grid, handed out a batch at a time. */
export class StepCursor {
  private next = 0;

  constructor(readonly times: readonly number[], private readonly batchSteps: number) {}

  /** The timestamps of the next batch, or null at the end. */
  batch(): readonly number[] | null {
    if (this.next >= this.times.length) return null;
    const out = this.times.slice(this.next, this.next + this.batchSteps);
    this.next += out.length;
    return out;
  }

  /** Where the next batch starts, as an index into `times`. */
  get position(): number {
    return this.next;
  }
}
