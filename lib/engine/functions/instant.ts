// Functions over instant vectors and scalars, as Prometheus 2.42 evaluates them at one step.

import { dropMetricName } from '../labels.ts';
import { EvaluationError } from '../types.ts';
import type { Sample, Vector } from '../types.ts';
import { goLog, goLog10, goLog2, goMax, goMin } from '../go/math.ts';
import { goSort } from '../go/sort.ts';
import { GoTime } from './date.ts';
import { histogramQuantile } from './histogram.ts';
import { labelJoin, labelReplace } from './label-functions.ts';

export type InstantArg = Vector | number | string;
export type InstantImpl = (args: readonly InstantArg[], timeMs: number, name: string) => Vector | number;

function arg<T extends InstantArg>(name: string, args: readonly InstantArg[], i: number, kind: 'vector' | 'number' | 'string'): T {
  const a = args[i];
  const ok = kind === 'vector' ? Array.isArray(a) : typeof a === kind;
  if (!ok) throw new EvaluationError(`${name}(): argument ${i + 1} must be a ${kind}`, 'bad_data');
  return a as T;
}
const vec = (name: string, args: readonly InstantArg[], i = 0) => arg<Vector>(name, args, i, 'vector');
const num = (name: string, args: readonly InstantArg[], i: number) => arg<number>(name, args, i, 'number');
const str = (name: string, args: readonly InstantArg[], i: number) => arg<string>(name, args, i, 'string');

/** Applies f to every value; like every arithmetic function, drops the metric name. */
function mapValues(vector: Vector, f: (v: number) => number): Vector {
  return vector.map((s): Sample => ({ labels: dropMetricName(s.labels), value: f(s.value) }));
}

function simple(f: (v: number) => number): InstantImpl {
  return (args, _timeMs, name) => mapValues(vec(name, args), f);
}

/**
 * The date functions: with no argument, one sample without labels for the evaluation time (whole
 * seconds, truncated); otherwise each sample's value read as Unix seconds (truncated to an int64 the
 * way Go does it, see date.ts).
 */
function dateFunction(field: (t: GoTime) => number): InstantImpl {
  return (args, timeMs, name) => {
    if (args.length === 0) return [{ labels: {}, value: field(GoTime.fromMillis(timeMs)) }];
    return mapValues(vec(name, args), (v) => field(GoTime.fromValue(v)));
  };
}

/**
 * Go's sort.Sort(sort.Reverse(...)) with Prometheus's comparators, which treat NaN as smaller than
 * everything in `vectorByValueHeap`/`vectorByReverseValueHeap`; reversed, NaNs end up last in both
 * sort() and sort_desc() (in an order only Go's algorithm determines).
 */
function sortVector(vector: Vector, descending: boolean): Vector {
  const out = [...vector];
  if (descending) goSort(out, (a, b) => Number.isNaN(b.value) || b.value < a.value);
  else goSort(out, (a, b) => Number.isNaN(b.value) || b.value > a.value);
  return out;
}

function round(args: readonly InstantArg[]): Vector {
  const toNearest = args.length >= 2 ? num('round', args, 1) : 1;
  // Prometheus multiplies by the inverse ("fewer floating point accuracy issues"); ties round up.
  const inverse = 1 / toNearest;
  return mapValues(vec('round', args), (v) => Math.floor(v * inverse + 0.5) / inverse);
}

function clamp(args: readonly InstantArg[]): Vector {
  const min = num('clamp', args, 1);
  const max = num('clamp', args, 2);
  // An empty result, not an error, when the bounds are crossed (NaN bounds are not "crossed").
  if (max < min) return [];
  return mapValues(vec('clamp', args), (v) => goMax(min, goMin(max, v)));
}

function nativeHistogramsOnly(name: string): InstantImpl {
  return () => {
    throw new EvaluationError(`${name} is not supported by the router for native histograms`);
  };
}

export const INSTANT_FUNCTIONS: Readonly<Record<string, InstantImpl>> = {
  abs: simple(Math.abs),
  ceil: simple(Math.ceil),
  floor: simple(Math.floor),
  exp: simple(Math.exp),
  sqrt: simple(Math.sqrt),
  ln: simple(goLog),
  log2: simple(goLog2),
  log10: simple(goLog10),
  // NaN and ±0 are returned as they are.
  sgn: simple((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  acos: simple(Math.acos),
  acosh: simple(Math.acosh),
  asin: simple(Math.asin),
  asinh: simple(Math.asinh),
  atan: simple(Math.atan),
  atanh: simple(Math.atanh),
  cos: simple(Math.cos),
  cosh: simple(Math.cosh),
  sin: simple(Math.sin),
  sinh: simple(Math.sinh),
  tan: simple(Math.tan),
  tanh: simple(Math.tanh),
  // Same operation order as Go's v*180/math.Pi and v*math.Pi/180.
  deg: simple((v) => (v * 180) / Math.PI),
  rad: simple((v) => (v * Math.PI) / 180),
  round: (args) => round(args),
  clamp: (args) => clamp(args),
  clamp_min: (args) => {
    const min = num('clamp_min', args, 1);
    return mapValues(vec('clamp_min', args), (v) => goMax(min, v));
  },
  clamp_max: (args) => {
    const max = num('clamp_max', args, 1);
    return mapValues(vec('clamp_max', args), (v) => goMin(max, v));
  },
  pi: () => Math.PI,
  time: (_args, timeMs) => timeMs / 1000,
  vector: (args) => [{ labels: {}, value: num('vector', args, 0) }],
  scalar: (args) => {
    const v = vec('scalar', args);
    return v.length === 1 ? v[0]!.value : NaN;
  },
  // Prometheus gives the sample's own timestamp. Only a plain vector selector keeps its samples' scrape
  // times, and the caller pushes timestamp(<selector>) down to the servers; every computed sample is
  // stamped with the evaluation time, so that is what this returns.
  timestamp: (args, timeMs) => mapValues(vec('timestamp', args), () => timeMs / 1000),
  day_of_month: dateFunction((t) => t.dayOfMonth()),
  day_of_week: dateFunction((t) => t.dayOfWeek()),
  day_of_year: dateFunction((t) => t.dayOfYear()),
  days_in_month: dateFunction((t) => t.daysInMonth()),
  hour: dateFunction((t) => t.hour()),
  minute: dateFunction((t) => t.minute()),
  month: dateFunction((t) => t.month()),
  year: dateFunction((t) => t.year()),
  sort: (args) => sortVector(vec('sort', args), false),
  sort_desc: (args) => sortVector(vec('sort_desc', args), true),
  label_replace: (args) =>
    labelReplace(vec('label_replace', args), str('label_replace', args, 1), str('label_replace', args, 2), str('label_replace', args, 3), str('label_replace', args, 4)),
  label_join: (args) =>
    labelJoin(vec('label_join', args), str('label_join', args, 1), str('label_join', args, 2), args.slice(3).map((_, i) => str('label_join', args, i + 3))),
  histogram_quantile: (args) => histogramQuantile(num('histogram_quantile', args, 0), vec('histogram_quantile', args, 1)),
  histogram_count: nativeHistogramsOnly('histogram_count'),
  histogram_sum: nativeHistogramsOnly('histogram_sum'),
  histogram_fraction: nativeHistogramsOnly('histogram_fraction'),
};
