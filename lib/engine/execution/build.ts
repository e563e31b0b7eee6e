// Turns the router's part of a query plan into a tree of operators over the query's grid.
import type { Expr, Leaf } from '../expr.ts';
import { gridTimes, subqueryGrid, type Grid, type QueryTimes } from '../grid.ts';
import { EvaluationError } from '../../errors.ts';
import { AggregateOperator } from './aggregate.ts';
import { ScalarScalarOperator, VectorScalarOperator, VectorVectorOperator } from './binary.ts';
import { instantFunction, StepFunctionScalar } from './call.ts';
import { LeafOperator, type LeafSeries } from './leaf.ts';
import type { ExecutionContext, MatrixOperator, Operator, ScalarOperator, VectorOperator } from './operator.ts';
import { StepCursor } from './operator.ts';
import { SeriesTable } from './series-table.ts';
import { AbsentOperator, RangeFunctionOperator, RangeLeafOperator, SubqueryOperator } from './subquery.ts';
import type { Labels, Point } from '../types.ts';
import { MergeMomentsOperator, NegateScalar, NegateVector } from './unary.ts';
import { RANGE_FUNCTIONS } from '../kernels/range.ts';

/** A leaf's series placed on the grid it is evaluated on (the query's, or an enclosing subquery's). */
export type LeafData = (leaf: Leaf, grid: Grid, times: readonly number[]) => readonly LeafSeries[];

/** A raw leaf's series: their samples as the shards sent them, in time order. */
export type RawLeafData = (leaf: Leaf) => readonly { readonly labels: Labels; readonly points: Point[] }[];

export interface BuildInput {
  readonly leaves: LeafData;
  readonly rawLeaves: RawLeafData;
  readonly times: QueryTimes;
  readonly ctx: ExecutionContext;
}

export function buildOperator(expr: Expr, grid: Grid, input: BuildInput): Operator {
  return new Builder(input).build(expr, grid, gridTimes(grid));
}

class Builder {
  constructor(private readonly input: BuildInput) {}

  // One small method per kind: queries nest up to the parser's limit, and every level costs a frame.
  build(expr: Expr, grid: Grid, times: readonly number[]): Operator {
    switch (expr.kind) {
      case 'number': return new StepFunctionScalar(this.cursor(times), () => expr.value);
      case 'string': return { type: 'string', value: expr.value };
      case 'leaf': return new LeafOperator(this.input.leaves(expr.leaf, grid, times), times, this.input.ctx, expr.leaf.partial);
      case 'negate': return this.negate(expr, grid, times);
      case 'absent': return this.absent(expr, grid, times);
      case 'aggregate': return this.aggregate(expr, grid, times);
      case 'mergeMoments': return this.mergeMoments(expr, grid, times);
      case 'binary': return this.binary(expr, grid, times);
      case 'call': return this.call(expr, grid, times);
      case 'subquery': return this.subquery(expr, grid, times);
      case 'rangeLeaf': return this.rangeLeaf(expr, times);
    }
  }

  private rangeLeaf(expr: Of<'rangeLeaf'>, times: readonly number[]): Operator {
    const series = new SeriesTable();
    const points: Point[][] = [];
    for (const s of this.input.rawLeaves(expr.leaf)) {
      series.add(s.labels);
      points.push(s.points);
    }
    return new RangeLeafOperator(series, points, expr, times, this.input.times, this.input.ctx);
  }

  private cursor(times: readonly number[]): StepCursor {
    return new StepCursor(times, this.input.ctx.batchSteps);
  }

  private negate(expr: Of<'negate'>, grid: Grid, times: readonly number[]): Operator {
    const inner = this.build(expr.expr, grid, times);
    return inner.type === 'scalar' ? new NegateScalar(inner) : new NegateVector(vector(inner));
  }

  private absent(expr: Of<'absent'>, grid: Grid, times: readonly number[]): Operator {
    const inner = this.build(expr.expr, grid, times);
    const series = new SeriesTable();
    series.intern(expr.labels);
    return new AbsentOperator(inner.type === 'matrix' ? inner : vector(inner), series);
  }

  private aggregate(expr: Of<'aggregate'>, grid: Grid, times: readonly number[]): Operator {
    const param = expr.param === null ? null : this.build(expr.param, grid, times);
    const valueLabel = param?.type === 'string' ? param.value : null;
    const scalarParam = param === null || param.type === 'string' ? null : scalar(param);
    return new AggregateOperator(expr.op, vector(this.build(expr.expr, grid, times)), expr.grouping, scalarParam, valueLabel, this.input.times.major);
  }

  private mergeMoments(expr: Of<'mergeMoments'>, grid: Grid, times: readonly number[]): Operator {
    const part = (e: Expr) => vector(this.build(e, grid, times));
    return new MergeMomentsOperator(expr.op, part(expr.count), part(expr.mean), part(expr.other), this.input.times.major);
  }

  private binary(expr: Of<'binary'>, grid: Grid, times: readonly number[]): Operator {
    const { op } = expr;
    const lhs = this.build(expr.lhs, grid, times);
    const rhs = this.build(expr.rhs, grid, times);
    if (lhs.type === 'scalar' && rhs.type === 'scalar') return new ScalarScalarOperator(op, lhs, rhs);
    if (rhs.type === 'scalar') return new VectorScalarOperator(op, vector(lhs), rhs, false, expr.bool);
    if (lhs.type === 'scalar') return new VectorScalarOperator(op, vector(rhs), lhs, true, expr.bool);
    return new VectorVectorOperator(op, vector(lhs), vector(rhs), expr.matching, expr.bool, this.input.times.major);
  }

  private call(expr: Of<'call'>, grid: Grid, times: readonly number[]): Operator {
    const args: Operator[] = [];
    for (const a of expr.args) args.push(this.build(a, grid, times));
    if (expr.name in RANGE_FUNCTIONS) return new RangeFunctionOperator(expr.name, args, this.input.times.major);
    return instantFunction(expr.name, args, times, this.input.ctx);
  }

  private subquery(expr: Of<'subquery'>, grid: Grid, times: readonly number[]): Operator {
    const innerGrid = subqueryGrid(expr, grid, this.input.times);
    const inner = vector(this.build(expr.expr, innerGrid, gridTimes(innerGrid)));
    return new SubqueryOperator(expr, inner, times, this.input.times, this.input.ctx) satisfies MatrixOperator;
  }
}

type Of<K extends Expr['kind']> = Extract<Expr, { kind: K }>;

function vector(op: Operator): VectorOperator {
  if (op.type === 'vector') return op;
  throw new EvaluationError(`expected an instant vector, got a ${op.type}`, 'bad_data');
}

function scalar(op: Operator): ScalarOperator {
  if (op.type === 'scalar') return op;
  throw new EvaluationError(`expected a scalar, got a ${op.type}`, 'bad_data');
}
