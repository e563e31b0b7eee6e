// Judges a Prometheus API answer against a script's own expected result, as upstream's test runner
// does: the same set of series (in order for `eval_ordered`), values equal up to upstream's relative
// epsilon (NaN equals NaN), and for a range query the point at the eval time. The shard label the
// router and the global oracle add is removed first: the scripts' data has none.
import type { ApiAnswer } from '../e2e/compare.ts';
import type { EvalCase } from './cases.ts';
import { labelKey, type Labels } from './script.ts';

/** Upstream's allowed relative error (promql/test.go's `epsilon`). */
const EPSILON = 0.000001;
/** The smallest positive normal float64: below it, differences are compared absolutely. */
const MIN_NORMAL = 2.2250738585072014e-308;

export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || diff < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / (Math.abs(a) + Math.abs(b)) < EPSILON;
}

/** A sample value of the JSON API ("1.5", "NaN", "+Inf", "-Inf"). */
export function apiValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

interface Sample { metric: Labels; value: number }

/**
 * The samples an answer holds at `timeMs`: the vector of an instant query, or each series' point at
 * that time of a range query; a scalar comes back as one sample without labels.
 */
function samplesAt(answer: ApiAnswer, timeMs: number): { scalar: boolean; samples: Sample[] } | string {
  const data = answer.body.data as { resultType: string; result: unknown };
  switch (data.resultType) {
    case 'scalar': {
      const [, v] = data.result as [number, string];
      return { scalar: true, samples: [{ metric: {}, value: apiValue(v) }] };
    }
    case 'vector':
      return { scalar: false, samples: (data.result as { metric: Labels; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: apiValue(s.value[1]) })) };
    case 'matrix': {
      const samples: Sample[] = [];
      for (const s of data.result as { metric: Labels; values: [number, string][] }[]) {
        const point = s.values.find(([t]) => Math.round(t * 1000) === timeMs);
        if (point) samples.push({ metric: s.metric, value: apiValue(point[1]) });
      }
      return { scalar: false, samples };
    }
    default:
      return `result type ${data.resultType}`;
  }
}

const show = (s: Sample) => `${labelKey(s.metric)} ${s.value}`;

/**
 * null when the answer agrees with the script's expectation for `c` at `timeMs` (its eval time), else
 * a short description. `ordered` applies to instant answers only (a matrix has no order).
 */
export function diffFromScript(answer: ApiAnswer, c: EvalCase, timeMs: number, ordered: boolean, shardLabel: string): string | null {
  if (c.fail) return answer.body.status === 'error' ? null : 'the script expects an error, the answer is a success';
  if (answer.body.status !== 'success') return `error ${answer.body.errorType}: ${answer.body.error}`;
  const got = samplesAt(answer, timeMs);
  if (typeof got === 'string') return got;
  const samples = got.samples.map((s) => {
    const { [shardLabel]: _shard, ...metric } = s.metric;
    return { metric, value: s.value };
  });
  const expected = c.expected;
  if (expected.kind === 'string') return 'string results are not compared';
  if (expected.kind === 'scalar') {
    if (samples.length !== 1 || Object.keys(samples[0]!.metric).length > 0) return `expected the scalar ${expected.value}, got ${samples.map(show).join(', ')}`;
    return almostEqual(samples[0]!.value, expected.value) ? null : `expected ${expected.value}, got ${samples[0]!.value}`;
  }
  if (got.scalar) return `expected series, got the scalar ${samples[0]!.value}`;
  const want = new Map(expected.series.map((s, i) => [labelKey(s.labels), { index: i, value: s.values[0] }]));
  const seen = new Set<string>();
  for (const [i, s] of samples.entries()) {
    const key = labelKey(s.metric);
    if (seen.has(key)) return `${key} twice once the shard label is removed (series of several shards)`;
    seen.add(key);
    const w = want.get(key);
    if (!w) return `unexpected series ${show(s)}`;
    if (typeof w.value !== 'number') return `expected value of ${key} is not a float`;
    if (!almostEqual(s.value, w.value)) return `expected ${w.value} for ${key}, got ${s.value}`;
    if (ordered && w.index !== i) return `${key} at position ${i + 1}, expected at ${w.index + 1}`;
  }
  const missing = [...want.keys()].filter((k) => !seen.has(k));
  return missing.length === 0 ? null : `missing ${missing.slice(0, 3).join(' ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`;
}
