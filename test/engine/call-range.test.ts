// The range-vector functions against a real Prometheus 2.42: for each case, fetch the raw samples of
// the window (`x[5m]` as an instant query), run the router's implementation on them, and compare with
// Prometheus's own answer for `f(x[5m])`. Values must agree bit for bit: the implementations follow
// 2.42's float algorithms (Kahan sums, extrapolation arithmetic, Go's sort).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeStep } from './steps.ts';
import { EvaluationError } from '../../lib/errors.ts';
import type { Matrix } from './oracle.ts';
import { startOracle } from './oracle.ts';
import type { OracleServer } from './oracle.ts';
import { T0, datasetOpenMetrics, evalMillis, expectSameVector } from './data/call-dataset.ts';

let oracle: OracleServer;
beforeAll(async () => {
  oracle = await startOracle(datasetOpenMetrics(), 'temp', T0 + 1800);
});
afterAll(async () => {
  await oracle?.stop();
});

const SELECTORS = ['req_total', 'temp', 'odd_bucket{h=~"many|nancount"}', 'stamp{n=~"0[0-5]|1[5-8]"}'];
const RANGES: [string, number][] = [['5m', 300_000], ['1m', 60_000], ['17m', 1_020_000], ['1234ms', 1234]];
/** Before, inside and after the data; on and off the 15 s sample grid; with millisecond fractions. */
const TIMES = [T0 + 10, T0 + 300, T0 + 465.5, T0 + 1000.123, T0 + 1507, T0 + 2722.222, T0 + 3600, T0 + 3700, T0 + 3890];

const windows = new Map<string, Promise<Matrix>>();
/** The raw samples of a range selector at a time (cached: every function reads the same windows). */
function window(selector: string, t: number): Promise<Matrix> {
  const key = `${selector}@${t}`;
  let w = windows.get(key);
  if (!w) windows.set(key, (w = oracle.matrix(selector, t)));
  return w;
}

interface Case {
  /** The call with `X` for the range argument, e.g. `quantile_over_time(0.9, X)`. */
  call: string;
  /** Arguments for callRangeFunction with `'X'` where the window goes. */
  args: (number | 'X')[];
  selectors?: readonly string[];
  ranges?: readonly [string, number][];
}

/** Compares one call over every selector × range × time; returns the number of samples compared. */
async function compareCase(name: string, c: Case): Promise<number> {
  const jobs: Promise<number>[] = [];
  for (const sel of c.selectors ?? SELECTORS) {
    for (const [range, rangeMs] of c.ranges ?? RANGES) {
      for (const t of TIMES) {
        jobs.push((async () => {
          const selector = `${sel}[${range}]`;
          const [matrix, expected] = await Promise.all([window(selector, t), oracle.vector(c.call.replace('X', selector), t)]);
          const args = c.args.map((a) => (a === 'X' ? matrix : a));
          const actual = await rangeStep(name, args, { timeMs: evalMillis(t), rangeMs });
          expectSameVector(actual, expected, { exact: true, ordered: true, context: `${c.call.replace('X', selector)} at ${t}` });
          return expected.length;
        })());
      }
    }
  }
  return (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
}

const plain = (name: string): [string, Case] => [name, { call: `${name}(X)`, args: ['X'] }];

const CASES: [string, Case][] = [
  ...['rate', 'increase', 'delta', 'irate', 'idelta', 'deriv', 'changes', 'resets'].map(plain),
  ...['avg', 'min', 'max', 'sum', 'count', 'stddev', 'stdvar', 'last', 'present'].map((f) => plain(`${f}_over_time`)),
  ['predict_linear', { call: 'predict_linear(X, 600)', args: ['X', 600] }],
  ['predict_linear', { call: 'predict_linear(X, -3.5)', args: ['X', -3.5] }],
  ['holt_winters', { call: 'holt_winters(X, 0.3, 0.7)', args: ['X', 0.3, 0.7] }],
  ['holt_winters', { call: 'holt_winters(X, 0.9, 0.1)', args: ['X', 0.9, 0.1] }],
  ['holt_winters', { call: 'holt_winters(X, NaN, 0.1)', args: ['X', NaN, 0.1] }],
  ...[0, 0.33, 0.5, 0.9, 1, -1, 2, NaN].map((q): [string, Case] => ['quantile_over_time', { call: `quantile_over_time(${q}, X)`, args: [q, 'X'] }]),
];

describe('range functions match Prometheus 2.42 bit for bit', () => {
  it.each(CASES.map(([name, c]) => [c.call, name, c] as const))('%s', async (_call, name, c) => {
    const compared = await compareCase(name, c);
    expect(compared).toBeGreaterThan(0);
  });
});

describe('windows with offset, @ and subqueries', () => {
  // predict_linear regresses relative to the evaluation time, not the window's end: offsetMs matters.
  const cases: { call: string; name: string; args: (number | 'X')[]; selector: string; offsetMs: (t: number) => number; rangeMs: number }[] = [
    { call: 'predict_linear(X, 60)', name: 'predict_linear', args: ['X', 60], selector: 'temp[5m] offset 10m', offsetMs: () => 600_000, rangeMs: 300_000 },
    { call: 'rate(X)', name: 'rate', args: ['X'], selector: 'req_total[5m] offset 7m30s', offsetMs: () => 450_000, rangeMs: 300_000 },
    { call: `predict_linear(X, 60)`, name: 'predict_linear', args: ['X', 60], selector: `temp[5m] @ ${T0 + 1200}`, offsetMs: (t) => evalMillis(t) - (T0 + 1200) * 1000, rangeMs: 300_000 },
    { call: 'increase(X)', name: 'increase', args: ['X'], selector: `req_total[10m] @ ${T0 + 1111} offset 1m`, offsetMs: (t) => evalMillis(t) - (T0 + 1111) * 1000 + 60_000, rangeMs: 600_000 },
    // A subquery's points sit on its own step grid.
    { call: 'deriv(X)', name: 'deriv', args: ['X'], selector: 'temp[5m:1m]', offsetMs: () => 0, rangeMs: 300_000 },
    { call: 'rate(X)', name: 'rate', args: ['X'], selector: 'req_total[7m:45s] offset 30s', offsetMs: () => 30_000, rangeMs: 420_000 },
  ];
  it.each(cases.map((c) => [`${c.call.replace('X', c.selector)}`, c] as const))('%s', async (_name, c) => {
    for (const t of [T0 + 1507, T0 + 1999.5, T0 + 3000]) {
      const [matrix, expected] = await Promise.all([oracle.matrix(c.selector, t), oracle.vector(c.call.replace('X', c.selector), t)]);
      const ctx = { timeMs: evalMillis(t), rangeMs: c.rangeMs, offsetMs: c.offsetMs(t) };
      const actual = await rangeStep(c.name, c.args.map((a) => (a === 'X' ? matrix : a)), ctx);
      expectSameVector(actual, expected, { exact: true, ordered: true, context: `${c.call} at ${t}` });
      expect(expected.length).toBeGreaterThan(0);
    }
  });
});

describe('errors where Prometheus fails', () => {
  // Go's %f: six decimals, half to even (0.0078125 → 0.007812), large values in full, -0 kept.
  const badFactors: [number, number][] = [[1, 0.5], [0, 0.5], [-0.0078125, 0.5], [0.5, 1e21], [0.5, -0], [0.5, Infinity], [-Infinity, 0.5], [1.0000005, 0.5]];
  const promNumber = (x: number) => (Object.is(x, -0) ? '-0' : x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : String(x));
  it.each(badFactors)('holt_winters(temp[5m], %s, %s)', async (sf, tf) => {
    const t = T0 + 1507;
    const query = `holt_winters(temp[5m], ${promNumber(sf)}, ${promNumber(tf)})`;
    const [answer, matrix] = await Promise.all([oracle.query(query, t), oracle.matrix('temp[5m]', t)]);
    expect(answer.status).toBe('error');
    let thrown: unknown;
    try {
      await rangeStep('holt_winters', [matrix, sf, tf], { timeMs: evalMillis(t), rangeMs: 300_000 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(EvaluationError);
    expect((thrown as EvaluationError).message).toBe(answer.error);
    expect((thrown as EvaluationError).errorType).toBe(answer.errorType);
  });

  it('holt_winters with bad factors but no series is no error', async () => {
    const t = T0 + 1507;
    const answer = await oracle.query('holt_winters(nothing[5m], 1, 2)', t);
    expect(answer.status).toBe('success');
    expect(await rangeStep('holt_winters', [[], 1, 2], { timeMs: evalMillis(t), rangeMs: 300_000 })).toEqual([]);
  });

  it('series that become equal without their names', async () => {
    const t = T0 + 1507;
    const selector = '{__name__=~"lbl|lbl2", a="dup", b="1"}[5m]';
    const [answer, matrix] = await Promise.all([oracle.query(`rate(${selector})`, t), oracle.matrix(selector, t)]);
    expect(answer.status).toBe('error');
    await expect(rangeStep('rate', [matrix], { timeMs: evalMillis(t), rangeMs: 300_000 })).rejects.toThrow(answer.error);
    // last_over_time keeps the names: no clash.
    const last = await oracle.vector(`last_over_time(${selector})`, t);
    expectSameVector(await rangeStep('last_over_time', [matrix], { timeMs: evalMillis(t), rangeMs: 300_000 }), last, { exact: true, context: 'last_over_time' });
  });
});
