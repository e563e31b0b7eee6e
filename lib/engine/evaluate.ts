// Evaluates the router's part of a query at one timestamp, over the leaves' united answers.
// Semantics follow Prometheus 2.42 (the collectors' version): range windows are closed at both ends.
import { aggregate } from './aggregate.ts';
import { scalarScalar, vectorScalar, vectorVector, type BinaryOp } from './binary.ts';
import type { Expr, Leaf } from './expr.ts';
import type { FetchedSeries } from './fetch.ts';
import { callInstantFunction, callRangeFunction, isRangeFunction } from './functions.ts';
import { resolveAt, type QueryTimes } from './grid.ts';
import { dropMetricName, labelsKey } from './labels.ts';
import { assertUnique, indexByTime, SeriesCollector } from './series.ts';
import { EvaluationError, type Labels, type Matrix, type Sample, type Vector } from './types.ts';

export type Value =
  | { readonly type: 'vector'; readonly vector: Vector }
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  /**
   * A subquery's points in its window [at − offset − range, at − offset], where `at` is the evaluation
   * time or the @ time: range functions need all three (predict_linear extrapolates to `at`).
   */
  | { readonly type: 'matrix'; readonly matrix: Matrix; readonly at: number; readonly offsetMs: number; readonly rangeMs: number };


export class Evaluator {
  /** Subquery inner results, shared between the overlapping windows of consecutive steps. */
  private readonly memo = new Map<Expr, Map<number, Value>>();

  /** Each leaf's samples by timestamp, indexed on first use. */
  private readonly leafSamples = new Map<number, Map<number, Sample[]>>();

  constructor(
    private readonly leafSeries: ReadonlyMap<number, readonly FetchedSeries[]>,
    private readonly times: QueryTimes,
  ) {}

  evaluate(expr: Expr, t: number): Value {
    switch (expr.kind) {
      case 'number': return { type: 'scalar', value: expr.value };
      case 'string': return { type: 'string', value: expr.value };
      case 'leaf': return { type: 'vector', vector: this.leafAt(expr.leaf, t) };
      case 'negate': {
        const inner = this.evaluate(expr.expr, t);
        if (inner.type === 'scalar') return { type: 'scalar', value: -inner.value };
        return vector(assertUnique(asVector(inner).map((s) => ({ labels: dropMetricName(s.labels), value: -s.value }))));
      }
      case 'absent': {
        const inner = this.evaluate(expr.expr, t);
        const empty = inner.type === 'matrix' ? inner.matrix.every((s) => s.points.length === 0) : asVector(inner).length === 0;
        return vector(empty ? [{ labels: expr.labels, value: 1 }] : []);
      }
      case 'aggregate': {
        const param = expr.param === null ? undefined : this.evaluate(expr.param, t);
        const arg = param === undefined ? undefined : param.type === 'string' ? param.value : asScalar(param);
        return vector(aggregate(expr.op, asVector(this.evaluate(expr.expr, t)), expr.grouping, arg));
      }
      case 'mergeVariance': return vector(this.mergeVariance(expr, t));
      case 'binary': return this.binary(expr, t);
      case 'call': return this.call(expr, t);
      case 'subquery': return this.subquery(expr, t);
    }
  }

  private leafAt(leaf: Leaf, t: number): Vector {
    let byTime = this.leafSamples.get(leaf.id);
    if (byTime === undefined) {
      byTime = indexByTime(this.leafSeries.get(leaf.id) ?? [], !leaf.partial);
      this.leafSamples.set(leaf.id, byTime);
    }
    return byTime.get(t) ?? [];
  }

  private binary(expr: Extract<Expr, { kind: 'binary' }>, t: number): Value {
    const op = expr.op as BinaryOp;
    const lhs = this.evaluate(expr.lhs, t);
    const rhs = this.evaluate(expr.rhs, t);
    if (lhs.type === 'scalar' && rhs.type === 'scalar') return { type: 'scalar', value: scalarScalar(op, lhs.value, rhs.value, expr.bool) };
    if (rhs.type === 'scalar') return vector(assertUnique(vectorScalar(op, asVector(lhs), rhs.value, false, expr.bool)));
    if (lhs.type === 'scalar') return vector(assertUnique(vectorScalar(op, asVector(rhs), lhs.value, true, expr.bool)));
    return vector(assertUnique(vectorVector(op, asVector(lhs), asVector(rhs), expr.matching, expr.bool)));
  }

  private call(expr: Extract<Expr, { kind: 'call' }>, t: number): Value {
    // A loop, not map: nested calls recurse through here (the parser's MAX_DEPTH counts on it).
    const args: Value[] = [];
    for (const arg of expr.args) args.push(this.evaluate(arg, t));
    if (isRangeFunction(expr.name)) {
      const window = args.find((a) => a.type === 'matrix');
      if (window === undefined || window.type !== 'matrix') {
        throw new EvaluationError(`expected a range vector in call to function "${expr.name}"`, 'bad_data');
      }
      const plain = args.map((a) => (a.type === 'matrix' ? a.matrix : a.type === 'string' ? a.value : asScalar(a)));
      const context = { timeMs: window.at, offsetMs: window.offsetMs, rangeMs: window.rangeMs };
      return vector(assertUnique(callRangeFunction(expr.name, plain, context)));
    }
    const plain = args.map((a) => (a.type === 'vector' ? a.vector : a.type === 'string' ? a.value : asScalar(a)));
    const result = callInstantFunction(expr.name, plain, { timeMs: t });
    return typeof result === 'number' ? { type: 'scalar', value: result } : vector(assertUnique(result));
  }

  /** The subquery's points in the window ending at the (offset, @-adjusted) evaluation time. */
  private subquery(expr: Extract<Expr, { kind: 'subquery' }>, t: number): Value {
    const step = expr.stepMs ?? this.times.defaultSubqueryStepMs;
    const at = expr.at === null ? t : resolveAt(expr.at, this.times);
    const end = at - expr.offsetMs;
    const lowest = end - expr.rangeMs;
    let first = Math.trunc(lowest / step) * step;
    if (first < lowest) first += step;
    const series = new SeriesCollector();
    for (let ti = first; ti <= end; ti += step) {
      for (const s of asVector(this.memoised(expr.expr, ti))) series.add(s.labels, ti, s.value);
    }
    return { type: 'matrix', matrix: series.matrix(), at, offsetMs: expr.offsetMs, rangeMs: expr.rangeMs };
  }

  private memoised(expr: Expr, t: number): Value {
    let byTime = this.memo.get(expr);
    if (byTime === undefined) this.memo.set(expr, (byTime = new Map()));
    let value = byTime.get(t);
    if (value === undefined) byTime.set(t, (value = this.evaluate(expr, t)));
    return value;
  }

  /**
   * stddev/stdvar from each shard's count, mean and variance per group: the combined variance is
   * Σ n_i·(var_i + (mean_i − mean)²) / n, which stays stable where a sum of squares would cancel.
   */
  private mergeVariance(expr: Extract<Expr, { kind: 'mergeVariance' }>, t: number): Sample[] {
    const counts = asVector(this.evaluate(expr.count, t));
    const means = asVector(this.evaluate(expr.mean, t));
    const variances = asVector(this.evaluate(expr.variance, t));
    const groups = new Map<string, { labels: Labels; parts: { n: number; mean: number; variance: number }[] }>();
    // Each shard answers one row per group in each of the three leaves, in the same order.
    const byGroup = (v: Vector) => {
      const out = new Map<string, number[]>();
      for (const s of v) {
        const key = labelsKey(s.labels);
        out.set(key, [...(out.get(key) ?? []), s.value]);
      }
      return out;
    };
    const meanRows = byGroup(means);
    const varianceRows = byGroup(variances);
    for (const s of counts) {
      const key = labelsKey(s.labels);
      const group = groups.get(key) ?? { labels: s.labels, parts: [] };
      const i = group.parts.length;
      group.parts.push({ n: s.value, mean: meanRows.get(key)?.[i] ?? NaN, variance: varianceRows.get(key)?.[i] ?? NaN });
      groups.set(key, group);
    }
    return [...groups.values()].map(({ labels, parts }) => {
      const n = parts.reduce((sum, p) => sum + p.n, 0);
      const mean = parts.reduce((sum, p) => sum + p.n * p.mean, 0) / n;
      const variance = parts.reduce((sum, p) => sum + p.n * (p.variance + (p.mean - mean) ** 2), 0) / n;
      return { labels, value: expr.op === 'stddev' ? Math.sqrt(variance) : variance };
    });
  }
}

function vector(v: Vector): Value {
  return { type: 'vector', vector: v };
}

function asVector(value: Value): Vector {
  if (value.type === 'vector') return value.vector;
  throw new EvaluationError(`expected an instant vector, got a ${value.type}`, 'bad_data');
}

function asScalar(value: Value): number {
  if (value.type === 'scalar') return value.value;
  throw new EvaluationError(`expected a scalar, got a ${value.type}`, 'bad_data');
}

