// Prometheus's JSON for query answers the router computed itself.
import { compareLabelSets } from '../labelsets.ts';
// Prometheus 2.42 prints sample values of vectors and matrices in Go's %g-like form (1e+21) and
// scalars in plain decimal (1000000000000000000000).
import { formatSampleValue, formatValue } from './format.ts';
import type { Answer } from './execution/run.ts';

type Json = { resultType: string; result: unknown };

const time = (ms: number) => ms / 1000;

/**
 * The JSON data of an answer the router evaluated: an instant vector in evaluation order, as Prometheus
 * leaves it (sort() and topk() orders matter); a matrix with its series in Prometheus's label order, as
 * its range queries return them.
 */
export function answerData(answer: Answer): Json {
  switch (answer.type) {
    case 'vector':
      return { resultType: 'vector', result: answer.samples.map((s) => ({ metric: s.labels, value: [time(answer.t), formatSampleValue(s.value)] })) };
    case 'scalar': return { resultType: 'scalar', result: [time(answer.t), formatValue(answer.value)] };
    case 'string': return { resultType: 'string', result: [time(answer.t), answer.value] };
    case 'matrix': {
      const sorted = answer.series.filter((s) => s.points.length > 0).sort((a, b) => compareLabelSets(a.labels, b.labels));
      return { resultType: 'matrix', result: sorted.map((s) => ({ metric: s.labels, values: s.points.map((p) => [time(p.t), formatSampleValue(p.v)]) })) };
    }
  }
}
