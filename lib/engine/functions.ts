// The PromQL function library of the router's own evaluator, with Prometheus 2.42's semantics: the
// results (values, labels, order, errors) are those a Prometheus 2.42 server gives for the same inputs.
// The implementations live in ./functions/; this module dispatches and applies what the engine does
// around every function call (the metric name, the duplicate label set check).
//
// Not here: absent() and absent_over_time() (they need the selector's matchers and, over a range, all
// steps: the caller does them) and the native-histogram functions (the router evaluates floats only).

import { keepsMetricName, rangeArgumentIndex } from '../promql/functions.ts';
import { dropMetricName } from './labels.ts';
import { assertUnique } from './series.ts';
import { EvaluationError } from './types.ts';
import type { Matrix, Sample, Vector } from './types.ts';
import { INSTANT_FUNCTIONS } from './functions/instant.ts';
import { RANGE_FUNCTIONS } from './functions/range.ts';

export { quantile, bucketQuantile } from './functions/quantile.ts';

export interface FunctionContext {
  /** Evaluation timestamp (ms): Prometheus's step time, what time() returns. */
  readonly timeMs: number;
}

export interface RangeContext extends FunctionContext {
  /** The range of the selector (or subquery), ms. */
  readonly rangeMs: number;
  /**
   * The selector's effective offset, ms (default 0): with `offset` and/or `@`, the window is
   * [timeMs - offsetMs - rangeMs, timeMs - offsetMs]; without, [timeMs - rangeMs, timeMs]. Both ends
   * are included in 2.42. Only predict_linear needs the distinction: it extrapolates from the
   * evaluation time, not from the window's end.
   */
  readonly offsetMs?: number;
}

const CALLER_HANDLED = new Set(['absent', 'absent_over_time']);

/**
 * Instant-vector and scalar functions. Args in call order: Vector for instant vectors, number for
 * scalars, string for strings; optional arguments may be left out (round's to_nearest, the date
 * functions' vector). Scalar-valued functions (pi, time, scalar) return a number.
 *
 * timestamp(v) returns `ctx.timeMs / 1000` for every sample: a computed sample carries the evaluation
 * time in Prometheus; only `timestamp(<vector selector>)` sees scrape times, and the caller pushes that
 * form down to the Prometheus servers.
 *
 * Throws EvaluationError where Prometheus fails the query, including "vector cannot contain metrics
 * with the same labelset", which Prometheus checks after every function call (label_replace onto an
 * existing label set, abs() of two series differing only in name, ...).
 */
export function callInstantFunction(name: string, args: readonly (Vector | number | string)[], ctx: FunctionContext): Vector | number {
  const impl = INSTANT_FUNCTIONS[name];
  if (!impl) throw unknownFunction(name);
  const result = impl(args, ctx.timeMs, name);
  if (typeof result !== 'number') assertUnique(result);
  return result;
}

/**
 * Functions taking a range vector. The range argument (args[1] for quantile_over_time, args[0]
 * otherwise) is a Matrix whose series hold only the points inside the window (already selected,
 * time-ordered, stale markers removed); a series without points produces no output. Scalar arguments
 * are numbers in their call positions. Output follows the series order; every function but
 * last_over_time drops the metric name.
 *
 * For a range query Prometheus also fails when two output series have the same labels at different
 * steps (it checks the whole result matrix); that check is the caller's, this one covers a single step.
 */
export function callRangeFunction(name: string, args: readonly (Matrix | number | string)[], ctx: RangeContext): Vector {
  const impl = RANGE_FUNCTIONS[name];
  if (!impl) throw unknownFunction(name);
  const matrixIndex = rangeArgumentIndex(name);
  const matrix = args[matrixIndex];
  if (!Array.isArray(matrix)) throw new EvaluationError(`${name}(): argument ${matrixIndex + 1} must be a range vector`, 'bad_data');
  const scalars = args.map((a) => (typeof a === 'number' ? a : undefined));
  const endMs = ctx.timeMs - (ctx.offsetMs ?? 0);
  const window = { evalMs: ctx.timeMs, startMs: endMs - ctx.rangeMs, endMs, rangeMs: ctx.rangeMs };
  const keepName = keepsMetricName(name);
  const out: Sample[] = [];
  for (const series of matrix as Matrix) {
    if (series.points.length === 0) continue;
    const value = impl(series.points, window, scalars);
    if (value === undefined) continue;
    out.push({ labels: keepName ? series.labels : dropMetricName(series.labels), value });
  }
  assertUnique(out);
  return out;
}

export function isRangeFunction(name: string): boolean {
  return name in RANGE_FUNCTIONS || name === 'absent_over_time';
}

/** Whether the router's engine evaluates the function (absent() and absent_over_time() by the caller). */
export function evaluatesFunction(name: string): boolean {
  return name in INSTANT_FUNCTIONS || name in RANGE_FUNCTIONS || CALLER_HANDLED.has(name);
}

function unknownFunction(name: string): EvaluationError {
  if (CALLER_HANDLED.has(name)) return new EvaluationError(`${name}() is evaluated by the caller, not by the function library`, 'bad_data');
  return new EvaluationError(`unknown function with name "${name}"`, 'bad_data');
}
