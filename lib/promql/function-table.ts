// The PromQL function table, one for every layer (parser, checker, label analysis, the cross-shard
// compiler and the engine), like Prometheus's promql/parser/functions.go. It holds the functions of
// both majors the router meets: Prometheus 2.42 (the collectors' version here) and 3.14, taken from
// the two releases' functions.go (holt_winters exists in 2.42 only; 3.x renamed it
// double_exponential_smoothing and added the others marked 3). The engine's implementations live in
// lib/engine/kernels/, keyed by name.

export type ValueType = 'scalar' | 'string' | 'vector' | 'matrix';

export type Major = 2 | 3;

export interface PromQLFunction {
  readonly name: string;
  /** The arguments' types; with `variadic`, the last one may repeat or be left out. */
  readonly argTypes: readonly ValueType[];
  /**
   * Prometheus's Variadic: 0, exactly argTypes.length arguments; n > 0, argTypes.length - 1 up to
   * argTypes.length - 1 + n; -1, at least argTypes.length - 1.
   */
  readonly variadic: number;
  readonly returnType: ValueType;
  /** The Prometheus majors that have it. */
  readonly majors: readonly Major[];
  /** 3.x accepts it only with --enable-feature=promql-experimental-functions. */
  readonly experimental: boolean;
  /**
   * The argument whose series' labels the result keeps (histogram_quantile's is 1), or -1: the result
   * has none of an argument's labels (scalar results, vector(), absent()'s labels come from matchers).
   */
  readonly seriesArgument: number;
  /** The result keeps `__name__` (2.42's rules; a 3.x-only function, 3.x's). */
  readonly keepsMetricName: boolean;
  /** The result depends on all input series at once (absent, scalar, sort, vector, ...). */
  readonly readsWholeVector: boolean;
  /** It groups classic histogram buckets by their labels without `le` (histogram_quantile). */
  readonly groupsBuckets: boolean;
}

interface Options {
  readonly variadic?: number;
  readonly majors?: readonly Major[];
  readonly experimental?: boolean;
  readonly seriesArgument?: number;
  readonly keepsMetricName?: boolean;
  readonly readsWholeVector?: boolean;
  readonly groupsBuckets?: boolean;
}

const BOTH: readonly Major[] = [2, 3];
const ONLY_2: readonly Major[] = [2];
const ONLY_3: readonly Major[] = [3];

function fn(argTypes: ValueType[], returnType: ValueType, o: Options = {}): Omit<PromQLFunction, 'name'> {
  const series = argTypes.findIndex((t) => t === 'vector' || t === 'matrix');
  return {
    argTypes,
    returnType,
    variadic: o.variadic ?? 0,
    majors: o.majors ?? BOTH,
    experimental: o.experimental ?? false,
    seriesArgument: o.seriesArgument ?? (returnType === 'scalar' ? -1 : series),
    keepsMetricName: o.keepsMetricName ?? false,
    readsWholeVector: o.readsWholeVector ?? false,
    groupsBuckets: o.groupsBuckets ?? false,
  };
}

const v = (): ValueType[] => ['vector'];
const m = (): ValueType[] => ['matrix'];
const exp3 = { majors: ONLY_3, experimental: true } as const;
const date = { variadic: 1 } as const;

const TABLE: Record<string, Omit<PromQLFunction, 'name'>> = {
  abs: fn(v(), 'vector'),
  absent: fn(v(), 'vector', { seriesArgument: -1, readsWholeVector: true }),
  absent_over_time: fn(m(), 'vector', { seriesArgument: -1, readsWholeVector: true }),
  acos: fn(v(), 'vector'),
  acosh: fn(v(), 'vector'),
  asin: fn(v(), 'vector'),
  asinh: fn(v(), 'vector'),
  atan: fn(v(), 'vector'),
  atanh: fn(v(), 'vector'),
  avg_over_time: fn(m(), 'vector'),
  ceil: fn(v(), 'vector'),
  changes: fn(m(), 'vector'),
  clamp: fn(['vector', 'scalar', 'scalar'], 'vector'),
  clamp_max: fn(['vector', 'scalar'], 'vector'),
  clamp_min: fn(['vector', 'scalar'], 'vector'),
  cos: fn(v(), 'vector'),
  cosh: fn(v(), 'vector'),
  count_over_time: fn(m(), 'vector'),
  day_of_month: fn(v(), 'vector', date),
  day_of_week: fn(v(), 'vector', date),
  day_of_year: fn(v(), 'vector', date),
  days_in_month: fn(v(), 'vector', date),
  deg: fn(v(), 'vector'),
  delta: fn(m(), 'vector'),
  deriv: fn(m(), 'vector'),
  double_exponential_smoothing: fn(['matrix', 'scalar', 'scalar'], 'vector', exp3),
  end: fn([], 'scalar', exp3),
  exp: fn(v(), 'vector'),
  // Like last_over_time, it acts as an offset and keeps the name.
  first_over_time: fn(m(), 'vector', { majors: ONLY_3, keepsMetricName: true }),
  floor: fn(v(), 'vector'),
  histogram_avg: fn(v(), 'vector', { majors: ONLY_3 }),
  histogram_count: fn(v(), 'vector'),
  histogram_fraction: fn(['scalar', 'scalar', 'vector'], 'vector'),
  histogram_quantile: fn(['scalar', 'vector'], 'vector', { groupsBuckets: true }),
  histogram_quantiles: fn(['vector', 'string', 'scalar', 'scalar'], 'vector', { ...exp3, variadic: 9, groupsBuckets: true }),
  histogram_stddev: fn(v(), 'vector', { majors: ONLY_3 }),
  histogram_stdvar: fn(v(), 'vector', { majors: ONLY_3 }),
  histogram_sum: fn(v(), 'vector'),
  holt_winters: fn(['matrix', 'scalar', 'scalar'], 'vector', { majors: ONLY_2 }),
  hour: fn(v(), 'vector', date),
  idelta: fn(m(), 'vector'),
  increase: fn(m(), 'vector'),
  // Joins each series with the info metrics (target_info) that share its identifying labels.
  info: fn(['vector', 'vector'], 'vector', { ...exp3, variadic: 1, keepsMetricName: true, readsWholeVector: true }),
  irate: fn(m(), 'vector'),
  label_join: fn(['vector', 'string', 'string', 'string'], 'vector', { variadic: -1, keepsMetricName: true }),
  label_replace: fn(['vector', 'string', 'string', 'string', 'string'], 'vector', { keepsMetricName: true }),
  last_over_time: fn(m(), 'vector', { keepsMetricName: true }),
  ln: fn(v(), 'vector'),
  log10: fn(v(), 'vector'),
  log2: fn(v(), 'vector'),
  mad_over_time: fn(m(), 'vector', exp3),
  max_of: fn(['scalar', 'scalar'], 'scalar', exp3),
  max_over_time: fn(m(), 'vector'),
  min_of: fn(['scalar', 'scalar'], 'scalar', exp3),
  min_over_time: fn(m(), 'vector'),
  minute: fn(v(), 'vector', date),
  month: fn(v(), 'vector', date),
  pi: fn([], 'scalar'),
  predict_linear: fn(['matrix', 'scalar'], 'vector'),
  present_over_time: fn(m(), 'vector'),
  quantile_over_time: fn(['scalar', 'matrix'], 'vector'),
  rad: fn(v(), 'vector'),
  range: fn([], 'scalar', exp3),
  rate: fn(m(), 'vector'),
  resets: fn(m(), 'vector'),
  round: fn(['vector', 'scalar'], 'vector', { variadic: 1 }),
  scalar: fn(v(), 'scalar', { readsWholeVector: true }),
  sgn: fn(v(), 'vector'),
  sin: fn(v(), 'vector'),
  sinh: fn(v(), 'vector'),
  sort: fn(v(), 'vector', { keepsMetricName: true, readsWholeVector: true }),
  sort_by_label: fn(['vector', 'string'], 'vector', { ...exp3, variadic: -1, keepsMetricName: true, readsWholeVector: true }),
  sort_by_label_desc: fn(['vector', 'string'], 'vector', { ...exp3, variadic: -1, keepsMetricName: true, readsWholeVector: true }),
  sort_desc: fn(v(), 'vector', { keepsMetricName: true, readsWholeVector: true }),
  sqrt: fn(v(), 'vector'),
  start: fn([], 'scalar', exp3),
  start_timestamp: fn(v(), 'vector', exp3),
  stddev_over_time: fn(m(), 'vector'),
  stdvar_over_time: fn(m(), 'vector'),
  step: fn([], 'scalar', exp3),
  sum_over_time: fn(m(), 'vector'),
  tan: fn(v(), 'vector'),
  tanh: fn(v(), 'vector'),
  time: fn([], 'scalar'),
  timestamp: fn(v(), 'vector'),
  ts_of_first_over_time: fn(m(), 'vector', exp3),
  ts_of_last_over_time: fn(m(), 'vector', exp3),
  ts_of_max_over_time: fn(m(), 'vector', exp3),
  ts_of_min_over_time: fn(m(), 'vector', exp3),
  vector: fn(['scalar'], 'vector', { readsWholeVector: true }),
  year: fn(v(), 'vector', date),
};

const FUNCTIONS: ReadonlyMap<string, PromQLFunction> = new Map(
  Object.entries(TABLE).map(([name, f]) => [name, { name, ...f }]),
);

/** A function of any major the router knows, by its exact (case-sensitive) name. */
export function promqlFunction(name: string): PromQLFunction | undefined {
  return FUNCTIONS.get(name);
}

/** A function as the given major knows it; undefined if that major has no such function. */
export function functionOf(name: string, major: Major): PromQLFunction | undefined {
  const f = FUNCTIONS.get(name);
  return f !== undefined && f.majors.includes(major) ? f : undefined;
}

/** Whether every major has the function (the others make a query's validity depend on the major). */
export function inEveryMajor(name: string): boolean {
  return FUNCTIONS.get(name)?.majors.length === 2;
}

/** The index of the range-vector argument (quantile_over_time's is 1), or -1. */
export function rangeArgumentIndex(name: string): number {
  return FUNCTIONS.get(name)?.argTypes.indexOf('matrix') ?? -1;
}

/** Whether a function's result keeps `__name__`; unknown names drop it. */
export function keepsMetricName(name: string): boolean {
  return FUNCTIONS.get(name)?.keepsMetricName ?? false;
}
