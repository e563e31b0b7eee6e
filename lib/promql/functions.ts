// What the label analysis needs to know about PromQL functions: which return scalars, and which
// argument carries the series whose labels the result keeps. Everything else about functions
// (argument types and counts) is the collectors' business: they reject a wrong call themselves.

/** Functions whose result is a scalar: it has no labels at all. */
const SCALAR_RESULT = new Set(['scalar', 'time', 'pi']);

/** Functions that build series from nothing (`vector(1)`) or only from scalars: no labels to keep. */
const NO_SERIES_ARGUMENT = new Set(['vector', 'time', 'pi']);

/** The position of the series argument where it is not the first one. */
const SERIES_ARGUMENT_INDEX: Record<string, number> = {
  histogram_quantile: 1,
  quantile_over_time: 1,
  histogram_fraction: 2,
};

export function returnsScalar(name: string): boolean {
  return SCALAR_RESULT.has(name);
}

/** Index of the argument whose series' labels the function's result keeps, or -1 if none. */
export function seriesArgumentIndex(name: string): number {
  if (NO_SERIES_ARGUMENT.has(name) || SCALAR_RESULT.has(name)) return -1;
  return SERIES_ARGUMENT_INDEX[name] ?? 0;
}
