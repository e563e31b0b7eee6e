// Functions over range vectors, as Prometheus 2.42 evaluates them for one series at one step, and 3.14
// where the window says so (rate's extrapolation, sum_over_time's and avg_over_time's summation, 3.x's
// functions). Each takes the points of the window (never empty: the caller skips empty windows, as
// Prometheus does) and returns a value, or undefined for "no output for this series".

import type { Major } from '../../promql/function-table.ts';
import { EvaluationError } from '../../errors.ts';
import type { Point } from '../types.ts';
import { formatGoF } from '../go/format.ts';
import { quantile } from './quantile.ts';

export interface Window {
  /** Evaluation time (Prometheus's enh.Ts), ms. */
  readonly evalMs: number;
  /** The window [startMs, endMs]: both ends included in 2.x, the start excluded in 3.x. */
  readonly startMs: number;
  readonly endMs: number;
  /** The selector's range, ms. */
  readonly rangeMs: number;
  /** The Prometheus major whose arithmetic to follow. */
  readonly major: Major;
}

/** Scalar arguments, in the positions they have in the PromQL call. */
export type ScalarArgs = readonly (number | undefined)[];

export type RangeImpl = (points: readonly Point[], w: Window, scalars: ScalarArgs) => number | undefined;

/** Go's time.Duration.Seconds() for a whole number of ms: seconds plus the nanosecond remainder / 1e9. */
function durationSeconds(ms: number): number {
  return Math.trunc(ms / 1000) + ((ms % 1000) * 1e6) / 1e9;
}

/**
 * rate, increase and delta in Prometheus 2.42 (`extrapolatedRate`). The difference between the first
 * and last sample (plus, for counters, every value before a drop: a reset) is extrapolated towards the
 * window's ends: all the way to an end if the first/last sample is within 1.1 average sample intervals
 * of it, otherwise by half an average interval (the series is assumed to start or end there). For
 * counters the extrapolation towards the start stops where the counter would reach zero; in 2.42 that
 * limit is applied before the 1.1 threshold test (3.x changed the order, and the window bounds).
 */
function extrapolatedRate(points: readonly Point[], w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  let result = last.v - first.v;
  if (isCounter) {
    let prev = first.v;
    for (let i = 1; i < points.length; i++) {
      const v = points[i]!.v;
      if (v < prev) result += prev;
      prev = v;
    }
  }
  let durationToStart = (first.t - w.startMs) / 1000;
  const durationToEnd = (w.endMs - last.t) / 1000;
  const sampledInterval = (last.t - first.t) / 1000;
  const averageInterval = sampledInterval / (points.length - 1);
  const threshold = averageInterval * 1.1;
  const durationToZero = isCounter && result > 0 && first.v >= 0 ? sampledInterval * (first.v / result) : Infinity;

  let factor: number;
  if (w.major === 2) {
    if (durationToZero < durationToStart) durationToStart = durationToZero;
    let extrapolateTo = sampledInterval;
    extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2;
    extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2;
    // One factor applied once, as 2.42 does: other groupings differ in the last bits.
    factor = extrapolateTo / sampledInterval;
  } else {
    // 3.x: the threshold first, then the zero point limits what is left, and the sum in its order.
    if (durationToStart >= threshold) durationToStart = averageInterval / 2;
    if (durationToZero < durationToStart) durationToStart = durationToZero;
    const toEnd = durationToEnd >= threshold ? averageInterval / 2 : durationToEnd;
    factor = (sampledInterval + durationToStart + toEnd) / sampledInterval;
  }
  if (isRate) factor /= durationSeconds(w.rangeMs);
  return result * factor;
}

/** irate and idelta: the last two samples only; irate treats a drop as a counter reset. */
function instantValue(points: readonly Point[], isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const last = points[points.length - 1]!;
  const previous = points[points.length - 2]!;
  let result = isRate && last.v < previous.v ? last.v : last.v - previous.v;
  const interval = last.t - previous.t;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/**
 * One step of Kahan-Babuška-Neumaier summation: Prometheus 2.42 sums with a separate compensation
 * term `c` in sum/avg/stddev/stdvar_over_time and the regressions, and adds it in at the end. The
 * results differ from plain summation in the last bits, or entirely where large values cancel.
 */
export function kahanSumInc(inc: number, sum: number, c: number, major: Major = 2): [sum: number, c: number] {
  const t = sum + inc;
  // 3.x drops the compensation once the sum is infinite (it would be NaN).
  if (major === 3 && isInfinite(t)) return [t, 0];
  // Neumaier's improvement: whichever operand is larger keeps its low-order bits in the compensation.
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/**
 * Least-squares fit of value over time (seconds relative to `interceptMs`): slope and the value at
 * `interceptMs`. A constant series gives slope 0 exactly (NaN for a constant ±Inf) rather than the
 * rounding noise of the general formula.
 */
function linearRegression(points: readonly Point[], interceptMs: number, major: Major): [slope: number, intercept: number] {
  let n = 0;
  let [sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2] = [0, 0, 0, 0, 0, 0, 0, 0];
  const initY = points[0]!.v;
  let constY = true;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (constY && i > 0 && p.v !== initY) constY = false;
    n += 1;
    const x = (p.t - interceptMs) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX, major);
    [sumY, cY] = kahanSumInc(p.v, sumY, cY, major);
    [sumXY, cXY] = kahanSumInc(x * p.v, sumXY, cXY, major);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2, major);
  }
  if (constY) return Number.isFinite(initY) || Number.isNaN(initY) ? [0, initY] : [NaN, NaN];
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/**
 * holt_winters(v, sf, tf): double exponential smoothing. The factors are checked only when there is a
 * series to smooth, i.e. when this is called at all; NaN factors pass the check (NaN comparisons are
 * false) and smooth to NaN.
 */
function holtWinters(points: readonly Point[], sf: number, tf: number): number | undefined {
  if (sf <= 0 || sf >= 1) throw new EvaluationError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatGoF(sf)}`);
  if (tf <= 0 || tf >= 1) throw new EvaluationError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatGoF(tf)}`);
  if (points.length < 2) return undefined;
  let s0 = 0;
  let s1 = points[0]!.v;
  let b = points[1]!.v - points[0]!.v;
  for (let i = 1; i < points.length; i++) {
    const x = sf * points[i]!.v;
    // The trend: the initial difference at the first step, then smoothed.
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/**
 * The running mean Prometheus 2.42 uses (adding v/n - mean/n, Kahan-compensated, rather than dividing
 * a sum that could overflow), with care for infinities: once the mean is infinite, same-sign
 * infinities and finite values leave it as is (the formula would produce Inf - Inf = NaN); an
 * opposite infinity or a NaN makes it NaN.
 */
function avgOverTime(points: readonly Point[]): number {
  let mean = 0;
  let c = 0;
  let count = 0;
  for (const { v } of points) {
    count++;
    if (infiniteMeanStays(mean, v)) continue;
    [mean, c] = kahanSumInc(v / count - mean / count, mean, c);
  }
  return isInfinite(mean) ? mean : mean + c;
}

/**
 * 3.x's avg_over_time (and avg aggregation): a Kahan sum divided by the count while the sum stays
 * finite; once it would overflow, the running mean instead, scaled by (n-1)/n at each value.
 */
export function kahanMean(values: Iterable<number>): number {
  let [sum, c, mean, count] = [0, 0, 0, 0];
  let incremental = false;
  for (const v of values) {
    count++;
    if (count === 1) {
      sum = v;
      continue;
    }
    if (!incremental) {
      const [newSum, newC] = kahanSumInc(v, sum, c, 3);
      if (!isInfinite(newSum)) {
        [sum, c] = [newSum, newC];
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(v / count, q * mean, q * c, 3);
  }
  return incremental ? mean + c : sum / count + c / count;
}

function sumOverTime(points: readonly Point[], major: Major): number {
  let sum = 0;
  let c = 0;
  for (const { v } of points) [sum, c] = kahanSumInc(v, sum, c, major);
  // An infinite sum has a NaN compensation (Inf - Inf): leave it out.
  return isInfinite(sum) ? sum : sum + c;
}

/** Welford's online variance (population variance: divided by n), with compensated sums. */
function variance(points: readonly Point[], major: Major): number {
  let count = 0;
  let [mean, cMean, aux, cAux] = [0, 0, 0, 0];
  for (const { v } of points) {
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean, major);
    [aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux, major);
  }
  return (aux + cAux) / count;
}

/** mad_over_time (3.x): the median of the distances from the median; a NaN value makes it NaN. */
function medianAbsoluteDeviation(points: readonly Point[]): number {
  const values = points.map(({ v }) => v);
  if (values.some(Number.isNaN)) return NaN;
  const median = quantile(0.5, values);
  return quantile(0.5, values.map((v) => Math.abs(v - median)));
}

export const isInfinite = (x: number): boolean => x === Infinity || x === -Infinity;

/**
 * Prometheus's incremental mean keeps an infinite mean as it is when the same infinity or a finite
 * value joins it: its formula would compute Inf - Inf = NaN.
 */
export function infiniteMeanStays(mean: number, joining: number): boolean {
  return isInfinite(mean) && ((isInfinite(joining) && (mean > 0) === (joining > 0)) || Number.isFinite(joining));
}

/** max/min_over_time: NaN only if every value is NaN (a NaN is replaced by any later value). */
function extreme(points: readonly Point[], better: (a: number, b: number) => boolean): number {
  let best = points[0]!.v;
  for (const { v } of points) if (better(v, best) || Number.isNaN(best)) best = v;
  return best;
}

export const RANGE_FUNCTIONS: Readonly<Record<string, RangeImpl>> = {
  rate: (p, w) => extrapolatedRate(p, w, true, true),
  increase: (p, w) => extrapolatedRate(p, w, true, false),
  delta: (p, w) => extrapolatedRate(p, w, false, false),
  irate: (p) => instantValue(p, true),
  idelta: (p) => instantValue(p, false),
  // Regression relative to the first sample's time, for precision (prometheus#2674).
  deriv: (p, w) => (p.length < 2 ? undefined : linearRegression(p, p[0]!.t, w.major)[0]),
  // Relative to the evaluation time (not the window's end when there is an offset).
  predict_linear: (p, w, s) => {
    if (p.length < 2) return undefined;
    const [slope, intercept] = linearRegression(p, w.evalMs, w.major);
    return slope * (s[1] ?? NaN) + intercept;
  },
  holt_winters: (p, _w, s) => holtWinters(p, s[1] ?? NaN, s[2] ?? NaN),
  // 3.x's name for holt_winters, computed the same way.
  double_exponential_smoothing: (p, _w, s) => holtWinters(p, s[1] ?? NaN, s[2] ?? NaN),
  changes: (p) => {
    let changes = 0;
    for (let i = 1; i < p.length; i++) {
      const prev = p[i - 1]!.v;
      const cur = p[i]!.v;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  },
  resets: (p) => {
    let resets = 0;
    for (let i = 1; i < p.length; i++) if (p[i]!.v < p[i - 1]!.v) resets++;
    return resets;
  },
  avg_over_time: (p, w) => (w.major === 2 ? avgOverTime(p) : kahanMean(p.map(({ v }) => v))),
  min_over_time: (p) => extreme(p, (a, b) => a < b),
  max_over_time: (p) => extreme(p, (a, b) => a > b),
  sum_over_time: (p, w) => sumOverTime(p, w.major),
  count_over_time: (p) => p.length,
  quantile_over_time: (p, _w, s) => quantile(s[0] ?? NaN, p.map(({ v }) => v)),
  mad_over_time: (p) => medianAbsoluteDeviation(p),
  stddev_over_time: (p, w) => Math.sqrt(variance(p, w.major)),
  stdvar_over_time: (p, w) => variance(p, w.major),
  last_over_time: (p) => p[p.length - 1]!.v,
  present_over_time: () => 1,
};
