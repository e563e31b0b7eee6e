// The instant-vector and scalar functions against a real Prometheus 2.42: fetch the argument vector
// (`x`), run the router's implementation on it, compare with Prometheus's answer for `f(x)`. Values
// agree bit for bit except for exp and the trigonometric/hyperbolic functions, where Go's math library
// and V8's may round the last bit differently (and Go's exp depends on the CPU's FMA support).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANGE_FUNCTIONS } from '../../lib/engine/kernels/range.ts';
import { keepsMetricName } from '../../lib/promql/function-table.ts';
import { instantStep, rangeStep } from './steps.ts';
import { EvaluationError } from '../../lib/errors.ts';
import type { Vector } from './oracle.ts';
import { sameFloat, startOracle } from './oracle.ts';
import type { OracleServer } from './oracle.ts';
import { T0, datasetOpenMetrics, evalMillis, expectSameVector } from './data/call-dataset.ts';

let oracle: OracleServer;
beforeAll(async () => {
  oracle = await startOracle(datasetOpenMetrics(), 'temp', T0 + 1800);
});
afterAll(async () => {
  await oracle?.stop();
});

const TIMES = [T0 + 10, T0 + 465.5, T0 + 1507, T0 + 2722.222, T0 + 3600];
/** Argument vectors: raw series, and computed ones (no metric name, other values). */
const INPUTS = ['temp', 'stamp', 'req_total', 'odd_bucket', 'temp / 7', 'lat_bucket * 1.37', 'temp * 1e300', 'temp{k="unit"} * 0.999'];

type Arg = Vector | number | string;

/**
 * For every input × time: `call` with X replaced by the input, against the router's operator with
 * `args(x)`. Either both fail with the same message or both succeed with the same samples.
 */
async function compare(name: string, call: string, args: (x: Vector) => Arg[], opts: { exact: boolean; ordered?: boolean; inputs?: readonly string[]; times?: readonly number[] }): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (const input of opts.inputs ?? INPUTS) {
    for (const t of opts.times ?? TIMES) {
      jobs.push((async () => {
        const query = call.replace('X', input);
        const [x, answer] = await Promise.all([oracle.vector(input, t), oracle.query(query, t)]);
        const context = `${query} at ${t}`;
        let actual: Vector | number;
        try {
          actual = await instantStep(name, args(x), evalMillis(t));
        } catch (err) {
          expect(err, context).toBeInstanceOf(EvaluationError);
          expect({ status: 'error', error: (err as Error).message }, context).toEqual({ status: answer.status, error: answer.error });
          return;
        }
        expect(answer.status, `${context}: ${answer.error}`).toBe('success');
        expect(Array.isArray(actual), context).toBe(true);
        const expected = (await oracle.vector(query, t));
        expectSameVector(actual as Vector, expected, { exact: opts.exact, ordered: opts.ordered ?? false, context });
      })());
    }
  }
  await Promise.all(jobs);
}

describe('arithmetic functions', () => {
  const exact = ['abs', 'ceil', 'floor', 'sqrt', 'ln', 'log2', 'log10', 'sgn', 'deg', 'rad'];
  // Go's implementations of these are not V8's: equal to 1e-9, not always in the last bit.
  const approximate = ['exp', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh', 'tan', 'tanh'];
  it.each(exact)('%s', (name) => compare(name, `${name}(X)`, (x) => [x], { exact: true }));
  it.each(approximate)('%s', (name) => compare(name, `${name}(X)`, (x) => [x], { exact: false }));

  const rounds: [string, number | undefined][] = [['round(X)', undefined], ['round(X, 0.1)', 0.1], ['round(X, 3)', 3], ['round(X, -0.3)', -0.3], ['round(X, 0)', 0], ['round(X, 1e-300)', 1e-300]];
  it.each(rounds)('%s', (call, to) => compare('round', call, (x) => (to === undefined ? [x] : [x, to]), { exact: true }));

  const clamps: [string, string, number[]][] = [
    ['clamp', 'clamp(X, -2, 3)', [-2, 3]], ['clamp', 'clamp(X, 3, -2)', [3, -2]], ['clamp', 'clamp(X, NaN, 3)', [NaN, 3]],
    ['clamp', 'clamp(X, -Inf, +Inf)', [-Infinity, Infinity]], ['clamp', 'clamp(X, 0, 0)', [0, 0]],
    ['clamp_min', 'clamp_min(X, 1)', [1]], ['clamp_min', 'clamp_min(X, +Inf)', [Infinity]], ['clamp_min', 'clamp_min(X, NaN)', [NaN]], ['clamp_min', 'clamp_min(X, -0)', [-0]],
    ['clamp_max', 'clamp_max(X, 1)', [1]], ['clamp_max', 'clamp_max(X, -Inf)', [-Infinity]], ['clamp_max', 'clamp_max(X, NaN)', [NaN]], ['clamp_max', 'clamp_max(X, 0)', [0]],
  ];
  it.each(clamps)('%s: %s', (name, call, bounds) => compare(name, call, (x) => [x, ...bounds], { exact: true }));
});

describe('date functions', () => {
  const names = ['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year'];
  // The stamp series hold leap days, the ends of years 9999 and 1, negative times, and values Go's
  // int64 conversion and 64-bit calendar arithmetic wrap around (±1e15, ±9e18, NaN, ±Inf).
  it.each(names)('%s(v)', (name) => compare(name, `${name}(X)`, (x) => [x], { exact: true, inputs: ['stamp', 'temp', 'stamp * 1000.5', '-stamp'] }));
  // Without an argument: the evaluation time, whatever the data.
  const times = [0, 59.999, 951868799.5, 951868800, 1709251199, 4102444799, T0 + 1507, -86400.5, -1e9];
  it.each(names)('%s()', async (name) => {
    for (const t of times) {
      const expected = await oracle.vector(`${name}()`, t);
      expectSameVector((await instantStep(name, [], evalMillis(t))) as Vector, expected, { exact: true, context: `${name}() at ${t}` });
    }
  });
});

describe('scalars, vector(), timestamp()', () => {
  const times = [T0 + 10, T0 + 1507, T0 + 2722.222, 0, 1.5];
  it('time() and pi()', async () => {
    for (const t of times) {
      expect(await instantStep('time', [], evalMillis(t))).toBe(await oracle.scalar('time()', t));
      expect(await instantStep('pi', [], evalMillis(t))).toBe(await oracle.scalar('pi()', t));
    }
  });
  it('vector(s)', async () => {
    for (const s of [0, -1.5, NaN, Infinity, 1e300]) {
      const q = `vector(${Number.isNaN(s) ? 'NaN' : s === Infinity ? '+Inf' : s})`;
      expectSameVector((await instantStep('vector', [s], evalMillis(T0))) as Vector, await oracle.vector(q, T0), { exact: true, context: q });
    }
  });
  it('scalar(v): the value of a single element, NaN otherwise', async () => {
    for (const input of ['temp{k="const"}', 'temp{k="wave"} * 3', 'temp', 'nothing', 'stamp{n="16"}']) {
      const t = T0 + 1507;
      const actual = await instantStep('scalar', [await oracle.vector(input, t)], evalMillis(t));
      expect(sameFloat(actual as number, await oracle.scalar(`scalar(${input})`, t)), input).toBe(true);
    }
  });
  // Computed vectors only: Prometheus stamps their samples with the evaluation time.
  it('timestamp(v) of computed vectors', () =>
    compare('timestamp', 'timestamp(X)', (x) => [x], { exact: true, inputs: ['temp * 1', 'sum by (k) (temp)', 'vector(1)', '-req_total'], times: [...TIMES, T0 + 3000.001] }));
});

describe('sort and sort_desc', () => {
  // Many ties and NaNs in vectors longer than 12 elements: the order is Go's sort algorithm's.
  const inputs = ['{__name__=~".+", __name__!="lbl2"} % 5', 'floor(odd_bucket / 100)', 'stamp * 0', 'ceil(temp / 20)', 'temp', 'stamp', 'lat_bucket'];
  it.each(['sort', 'sort_desc'])('%s', (name) => compare(name, `${name}(X)`, (x) => [x], { exact: true, ordered: true, inputs }));
});

describe('histogram_quantile', () => {
  const inputs = ['lat_bucket', 'odd_bucket', 'rate(lat_bucket[5m])', 'odd_bucket{h="many"} - 100', 'lat_bucket{svc="a"} * -1'];
  const phis = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1, -0.01, 1.01, NaN];
  it.each(phis)('φ = %s', (phi) =>
    compare('histogram_quantile', `histogram_quantile(${Number.isNaN(phi) ? 'NaN' : phi}, X)`, (x) => [phi, x], { exact: true, inputs }));
  it('two histograms that differ only in name clash after dropping it', async () => {
    const t = T0 + 1507;
    const input = 'label_replace({__name__=~"lbl|lbl2", a="dup", b="1"}, "le", "+Inf", "", "")';
    await compare('histogram_quantile', 'histogram_quantile(0.5, X)', (x) => [0.5, x], { exact: true, inputs: [input], times: [t] });
  });
});

describe('label_replace', () => {
  const cases: [dst: string, replacement: string, src: string, regex: string][] = [
    ['dst', '$1-$2', 'a', '(.*)-(.*)'],
    ['dst', '$2', 'a', '(.*)-(.*)'], // greedy: the last dash splits
    ['dst', 'x', 'a', 'foo'], // matches "foo" only (anchored)
    ['dst', 'x', 'a', ''], // empty regex: matches only an empty (absent) value
    ['dst', '$1x', 'a', '(.*)'], // $1x is the group named "1x": none, so dst is removed
    ['dst', '${1}x', 'a', '(.*)'],
    ['dst', '$$1 costs $', 'a', '(.*)'],
    ['dst', '$-1 ${ ${1', 'a', '(.*)'], // malformed references stay literal
    ['dst', '$0|$01|$9', 'a', '(.)(.*)'],
    ['dst', '$rest:$first ${first}_x $missing', 'a', '(?P<first>[a-z]+)-(?P<rest>.*)'],
    ['a', '', 'a', 'foo.*'], // an empty result removes the label
    ['b', '$1', 'nosuchlabel', '(.*)'], // absent source: "" matches (.*), b removed
    ['c', 'set', 'nosuchlabel', '.*'],
    ['__name__', 'renamed_$1', 'b', '(.*)'],
    ['dst', '$1', '__name__', 'l(.*)'],
    ['dst', '[$1][$2]', 'a', '(.)(.*)'], // code points, not bytes or UTF-16 units
    ['dst', '$1', 'a', '(?i)FOO(.*)'],
    ['dst', '$1', 'a', '(\\d+)|.*'],
    ['dst', '<$1>', 'b', '(x|y)?.*'], // an unmatched group expands to ""
    ['dst', 'x', 'a', '.*\n'],
    // Errors: invalid regex (checked first), then the destination name; even on an empty vector.
    ['dst', 'x', 'a', '('],
    ['dst', 'x', 'a', '(?<n>.*)'], // Go 1.19 only knows (?P<n>...)
    ['dst', 'x', 'a', 'a{1001}'],
    ['1dst', 'x', 'a', '.*'],
    ['d-st', 'x', 'a', '('],
    ['', 'x', 'a', '.*'],
  ];
  const quote = (s: string) => JSON.stringify(s);
  it.each(cases)('label_replace(X, %j, %j, %j, %j)', (dst, repl, src, regex) =>
    compare('label_replace', `label_replace(X, ${quote(dst)}, ${quote(repl)}, ${quote(src)}, ${quote(regex)})`, (x) => [x, dst, repl, src, regex], {
      exact: true,
      ordered: true,
      inputs: ['lbl', 'nothing', 'lbl * 2'],
      times: [T0 + 1507],
    }));
  it('a result with duplicate label sets fails', () =>
    compare('label_replace', 'label_replace(X, "b", "", "b", ".*")', (x) => [x, 'b', '', 'b', '.*'], { exact: true, inputs: ['lbl', 'lbl{a="dup"}'], times: [T0 + 1507] }));
});

describe('label_join', () => {
  const cases: [dst: string, sep: string, srcs: string[]][] = [
    ['dst', '-', ['a', 'b']],
    ['dst', '', ['a', 'b', 'c', 'd']],
    ['dst', ',', ['nosuch', 'b', 'nosuch']],
    ['dst', ',', ['nosuch']], // all empty: dst removed
    ['dst', '-', []], // no sources: dst removed
    ['a', '+', ['a', 'b']], // the destination may be a source
    ['__name__', '_', ['__name__', 'b']],
    ['b', '', ['c']], // removing b where c is absent
    // Errors: source names first, in order, then the destination.
    ['dst', '-', ['a', '1b']],
    ['1dst', '-', ['a', 'b-c']],
    ['1dst', '-', ['a']],
  ];
  const quote = (s: string) => JSON.stringify(s);
  it.each(cases)('label_join(X, %j, %j, %j)', (dst, sep, srcs) =>
    compare('label_join', `label_join(X, ${[dst, sep, ...srcs].map(quote).join(', ')})`, (x) => [x, dst, sep, ...srcs], {
      exact: true,
      ordered: true,
      inputs: ['lbl', 'nothing', 'lbl{a="dup"}'],
      times: [T0 + 1507],
    }));
});

describe('errors of the engine around functions', () => {
  it('an arithmetic function on series differing only in name fails', () =>
    compare('abs', 'abs(X)', (x) => [x], { exact: true, inputs: ['{__name__=~"lbl|lbl2", a="dup", b="1"}'], times: [T0 + 1507] }));
  it('native-histogram functions are not supported', async () => {
    for (const name of ['histogram_count', 'histogram_sum']) {
      await expect(instantStep(name, [[]], 0)).rejects.toThrow(`${name} is not supported by the router for native histograms`);
    }
    await expect(instantStep('histogram_fraction', [0, 1, []], 0)).rejects.toThrow(EvaluationError);
  });
});

describe('metric names and function kinds agree with Prometheus', () => {
  const t = T0 + 1507;
  const instant: [string, string, (x: Vector) => Arg[]][] = [
    ['abs', 'abs(temp)', (x) => [x]], ['round', 'round(temp)', (x) => [x]], ['clamp', 'clamp(temp, 0, 1)', (x) => [x, 0, 1]],
    ['timestamp', 'timestamp(temp)', (x) => [x]], ['sort', 'sort(temp)', (x) => [x]], ['sort_desc', 'sort_desc(temp)', (x) => [x]],
    ['label_replace', 'label_replace(temp, "x", "y", "k", ".*")', (x) => [x, 'x', 'y', 'k', '.*']],
    ['label_join', 'label_join(temp, "x", "-", "k")', (x) => [x, 'x', '-', 'k']], ['exp', 'exp(temp)', (x) => [x]],
  ];
  const range = ['rate', 'irate', 'delta', 'deriv', 'changes', 'avg_over_time', 'last_over_time', 'present_over_time', 'max_over_time', 'stddev_over_time'];
  it.each(instant)('%s', async (name, query, args) => {
    const result = await oracle.vector(query, t);
    expect(result.length).toBeGreaterThan(0);
    const actual = (await instantStep(name, args(await oracle.vector('temp', t)), evalMillis(t))) as Vector;
    expect(actual.every((s) => '__name__' in s.labels)).toBe(result.every((s) => '__name__' in s.labels));
    expect(result.every((s) => '__name__' in s.labels)).toBe(keepsMetricName(name));
    expect(name in RANGE_FUNCTIONS).toBe(false);
  });
  it.each(range)('%s', async (name) => {
    const result = await oracle.vector(`${name}(temp[5m])`, t);
    expect(result.length).toBeGreaterThan(0);
    expect(result.every((s) => '__name__' in s.labels)).toBe(keepsMetricName(name));
    expect(name in RANGE_FUNCTIONS).toBe(true);
  });
  it('quantile_over_time, predict_linear and holt_winters are range functions too', async () => {
    for (const name of ['quantile_over_time', 'predict_linear', 'holt_winters']) expect(name in RANGE_FUNCTIONS).toBe(true);
    expect(await rangeStep('quantile_over_time', [0.5, []], { timeMs: 0, rangeMs: 1 })).toEqual([]);
  });
});
