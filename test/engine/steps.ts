// The router's operators run on one evaluation step, with inputs given as the oracle returned them:
// the engine tests compare that step with Prometheus's own answer for the same inputs.
import type { AggregateOp, BinaryOp, Grouping, Matching } from '../../lib/engine/expr.ts';
import { SampleBudget } from '../../lib/engine/budget.ts';
import { AggregateOperator } from '../../lib/engine/execution/aggregate.ts';
import { ScalarScalarOperator, VectorScalarOperator, VectorVectorOperator } from '../../lib/engine/execution/binary.ts';
import { instantFunction, StepFunctionScalar } from '../../lib/engine/execution/call.ts';
import type { ExecutionContext, MatrixOperator, Operator, RangeStep, VectorOperator } from '../../lib/engine/execution/operator.ts';
import { StepCursor } from '../../lib/engine/execution/operator.ts';
import { collectInstant } from '../../lib/engine/execution/run.ts';
import { SeriesTable } from '../../lib/engine/execution/series-table.ts';
import { StepVector } from '../../lib/engine/execution/step-vector.ts';
import { RangeFunctionOperator } from '../../lib/engine/execution/subquery.ts';
import { rangeArgumentIndex } from '../../lib/promql/function-table.ts';
import type { Matrix, Vector } from './oracle.ts';

const CTX: ExecutionContext = {
  batchSteps: 1,
  times: { start: 0, end: 0, defaultSubqueryStepMs: 60_000, major: 2 },
  yieldPoint: async () => {},
  budget: new SampleBudget(Infinity),
};

/** An instant vector at time `t` as an operator's single step, series in the vector's order. */
export function vectorInput(vector: Vector, t = 0): VectorOperator {
  const series = new SeriesTable();
  const step = new StepVector(t);
  for (const s of vector) step.push(series.add(s.labels), s.value);
  let done = false;
  return {
    type: 'vector',
    series,
    next: async () => {
      if (done) return null;
      done = true;
      return [step];
    },
  };
}

export function scalarInput(value: number, t = 0): Operator {
  return new StepFunctionScalar(new StepCursor([t], 1), () => value);
}

/** A range vector at one step: each series' points are its window. */
export function matrixInput(matrix: Matrix, step: Omit<RangeStep, 'windows'>): MatrixOperator {
  const series = new SeriesTable();
  const windows = matrix.map((s) => ({ id: series.add(s.labels), points: s.points })).filter((w) => w.points.length > 0);
  let done = false;
  return {
    type: 'matrix',
    series,
    next: async () => {
      if (done) return null;
      done = true;
      return [{ ...step, windows }];
    },
  };
}

type Arg = Vector | Matrix | number | string;

function input(arg: Arg, t: number): Operator {
  if (typeof arg === 'number') return scalarInput(arg, t);
  if (typeof arg === 'string') return { type: 'string', value: arg };
  return vectorInput(arg as Vector, t);
}

/** The operator's value at its single step: a vector (in output order) or a scalar. */
export async function stepValue(op: Operator): Promise<Vector | number> {
  const answer = await collectInstant(op, 0);
  if (answer.type === 'scalar') return answer.value;
  if (answer.type !== 'vector') throw new Error(`unexpected ${answer.type}`);
  return answer.samples.map((s) => ({ labels: s.labels, value: s.value }));
}

async function vectorValue(op: Operator): Promise<Vector> {
  return (await stepValue(op)) as Vector;
}

export async function aggregateStep(op: AggregateOp, vector: Vector, grouping: Grouping, param?: number | string): Promise<Vector> {
  const scalar = typeof param === 'number' ? new StepFunctionScalar(new StepCursor([0], 1), () => param) : null;
  const label = typeof param === 'string' ? param : null;
  return await vectorValue(new AggregateOperator(op, vectorInput(vector), grouping, scalar, label));
}

export async function vectorVectorStep(op: BinaryOp, lhs: Vector, rhs: Vector, matching: Matching, returnBool: boolean): Promise<Vector> {
  return await vectorValue(new VectorVectorOperator(op, vectorInput(lhs), vectorInput(rhs), matching, returnBool));
}

export async function vectorScalarStep(op: BinaryOp, vector: Vector, scalar: number, scalarOnLeft: boolean, returnBool: boolean): Promise<Vector> {
  return await vectorValue(new VectorScalarOperator(op, vectorInput(vector), new StepFunctionScalar(new StepCursor([0], 1), () => scalar), scalarOnLeft, returnBool));
}

export async function scalarScalarStep(op: BinaryOp, a: number, b: number): Promise<number> {
  return (await stepValue(new ScalarScalarOperator(op, scalarInput(a) as never, scalarInput(b) as never))) as number;
}

/** An instant-vector or scalar function at evaluation time `timeMs`. */
export async function instantStep(name: string, args: readonly Arg[], timeMs: number): Promise<Vector | number> {
  return await stepValue(instantFunction(name, args.map((a) => input(a, timeMs)), [timeMs], CTX));
}

/** A range-vector function at `timeMs` over windows of `rangeMs` ending `offsetMs` before it. */
export async function rangeStep(name: string, args: readonly Arg[], ctx: { timeMs: number; rangeMs: number; offsetMs?: number }): Promise<Vector> {
  const step = { t: ctx.timeMs, at: ctx.timeMs, offsetMs: ctx.offsetMs ?? 0, rangeMs: ctx.rangeMs };
  const ops = args.map((a, i) => (i === rangeArgumentIndex(name) ? matrixInput(a as Matrix, step) : input(a, ctx.timeMs)));
  return await vectorValue(new RangeFunctionOperator(name, ops, 2));
}
