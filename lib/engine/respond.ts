// Prometheus's JSON for query answers the router computed itself.
import { compareLabelSets } from '../merge/labelsets.ts';
// Prometheus 2.42 prints sample values of vectors and matrices in Go's %g-like form (1e+21) and
// scalars in plain decimal (1000000000000000000000).
import { formatSampleValue, formatValue } from './format.ts';
import type { FetchedSeries } from './fetch.ts';
import type { Matrix, Vector } from './types.ts';

type Json = { resultType: string; result: unknown };

const time = (ms: number) => ms / 1000;

/** An instant vector in evaluation order, as Prometheus leaves it (sort() and topk() orders matter). */
export function vectorData(v: Vector, t: number): Json {
  return { resultType: 'vector', result: v.map((s) => ({ metric: s.labels, value: [time(t), formatSampleValue(s.value)] })) };
}

export function scalarData(value: number, t: number): Json {
  return { resultType: 'scalar', result: [time(t), formatValue(value)] };
}

export function stringData(value: string, t: number): Json {
  return { resultType: 'string', result: [time(t), value] };
}

/** A matrix, series in Prometheus's label order as its range queries return them. */
export function matrixData(m: Matrix): Json {
  const sorted = [...m].filter((s) => s.points.length > 0).sort((a, b) => compareLabelSets(a.labels, b.labels));
  return { resultType: 'matrix', result: sorted.map((s) => ({ metric: s.labels, values: s.points.map((p) => [time(p.t), formatSampleValue(p.v)]) })) };
}


/** A union of shards' series, values passed on as the shards printed them. */
export function fetchedMatrixData(series: readonly FetchedSeries[]): Json {
  const sorted = series.filter((s) => s.values.length > 0).sort((a, b) => compareLabelSets(a.labels, b.labels));
  return { resultType: 'matrix', result: sorted.map((s) => ({ metric: s.labels, values: s.values })) };
}

export function fetchedVectorData(series: readonly FetchedSeries[]): Json {
  return { resultType: 'vector', result: series.filter((s) => s.values.length > 0).map((s) => ({ metric: s.labels, value: s.values[0] })) };
}
