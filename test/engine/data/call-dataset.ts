// A small OpenMetrics dataset for the function oracle tests: a few series over one hour at 15 s, built
// to hit the corners of Prometheus's function semantics (counter resets, gaps, irregular spacing, series
// starting late, NaN and ±Inf, negative values, values where summation order shows, classic histograms
// with a missing +Inf bucket, non-monotonic and negative buckets, odd `le` values); and the helper
// that compares the router's answers with the oracle's.

import { expect } from 'vitest';
import { formatLabels, labelsKey } from '../../../lib/engine/labels.ts';
import type { Sample, Vector } from '../oracle.ts';
import { sameFloat } from '../oracle.ts';

/** First sample time (seconds); the data covers [T0, T0 + 3600]. */
export const T0 = 1_700_000_100;
export const STEP = 15;
export const SAMPLES = 241;

type RawSample = [t: number, v: number];
interface Series { name: string; labels: Record<string, string>; samples: RawSample[] }
interface Family { name: string; type: 'counter' | 'gauge' | 'histogram' | 'unknown'; series: Series[] }

/** Deterministic pseudo-random numbers in [0, 1) (a small LCG): jitter without flakiness. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function regular(f: (i: number) => number | undefined, from = 0, to = SAMPLES): RawSample[] {
  const out: RawSample[] = [];
  for (let i = from; i < to; i++) {
    const v = f(i);
    if (v !== undefined) out.push([T0 + i * STEP, v]);
  }
  return out;
}

function counters(): Series[] {
  const rnd = lcg(7);
  let a = 10;
  const steady = regular((i) => {
    if (i === 100) a = 2; // reset to a small value
    else if (i === 180) a = 0; // reset to zero
    else a += 3 + (i % 5);
    return a;
  });
  // Irregular spacing (millisecond jitter) and a five-minute gap.
  let b = 1000.25;
  const jittery: RawSample[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    b += rnd() * 4;
    if (i >= 60 && i < 80) continue;
    if (i === 150) b = 0.5;
    jittery.push([T0 + i * STEP + Math.round(rnd() * 4000 - 2000) / 1000, Number(b.toFixed(6))]);
  }
  // Starts late with a value close to zero: the extrapolation stops at the counter's zero point.
  const late = regular((i) => (i - 120) * 0.7 + 1.3, 120);
  // Starts late with a large value: extrapolated by half an interval only.
  const lateBig = regular((i) => 5000 + (i - 200) * 11, 200);
  // Two samples only, then nothing.
  const short = regular((i) => (i === 30 ? 4 : i === 31 ? 9 : undefined));
  return [
    { name: 'req_total', labels: { path: '/steady' }, samples: steady },
    { name: 'req_total', labels: { path: '/jitter' }, samples: jittery },
    { name: 'req_total', labels: { path: '/late' }, samples: late },
    { name: 'req_total', labels: { path: '/late-big' }, samples: lateBig },
    { name: 'req_total', labels: { path: '/short' }, samples: short },
  ];
}

function gauges(): Series[] {
  const rnd = lcg(11);
  return [
    { name: 'temp', labels: { k: 'wave' }, samples: regular((i) => 20 * Math.sin(i / 10) - 5 + i / 1000) },
    {
      name: 'temp',
      labels: { k: 'special' },
      samples: regular((i) => (i % 17 === 0 ? NaN : i % 23 === 0 ? Infinity : i % 29 === 0 ? -Infinity : (i % 7) - 3.25)),
    },
    { name: 'temp', labels: { k: 'const' }, samples: regular(() => 7) },
    // Where the order and method of summation changes the last bits (or more).
    { name: 'temp', labels: { k: 'big' }, samples: regular((i) => [1e16, 1.5, -1e16, 0.7, 3e15, 0.1][i % 6]! * (1 + (i % 11) / 1e9)) },
    { name: 'temp', labels: { k: 'sparse' }, samples: regular((i) => (i % 40 === 0 ? i / 3 : undefined)) },
    { name: 'temp', labels: { k: 'inf' }, samples: regular((i) => (i < 100 ? Infinity : i < 110 ? 5 : i < 170 ? -Infinity : i % 2 ? Infinity : -Infinity)) },
    { name: 'temp', labels: { k: 'noise' }, samples: regular(() => Math.round((rnd() - 0.5) * 2000) / 100) },
    // Rounding ties and halves.
    { name: 'temp', labels: { k: 'halves' }, samples: regular((i) => (i % 13) / 2 - 3 + (i % 3 === 0 ? 0.25 : 0)) },
    // Small values around the domains of the inverse trigonometric/hyperbolic functions.
    { name: 'temp', labels: { k: 'unit' }, samples: regular((i) => ((i % 9) - 4) / 3.5) },
  ];
}

/** Unix timestamps (seconds) as values: for the date functions. */
function timestamps(): Series[] {
  const values = [
    0, -1, -86401.5, 951782400, 951868799.9, 1709208000, 1700000000, 4102444800, 253402300799, 253402300800, -62135596800,
    -62135596801, 1e15, -1e15, 9.2e18, -9.3e18, NaN, Infinity, -Infinity, 1.5, 1078012800, 1234567890.999,
  ];
  return values.map((v, n) => ({ name: 'stamp', labels: { n: String(n).padStart(2, '0') }, samples: regular(() => v) }));
}

/** A classic histogram family: `buckets` maps `le` to a count function of the sample index. */
function histogram(labels: Record<string, string>, buckets: Record<string, (i: number) => number>, from = 0): Series[] {
  return Object.entries(buckets).map(([le, f]) => ({ name: 'lat_bucket', labels: { ...labels, le }, samples: regular(f, from) }));
}

function histograms(): Series[] {
  const grow = (rate: number, base = 0) => (i: number) => base + Math.floor(i * rate);
  return [
    ...histogram({ svc: 'a' }, { '0.1': grow(1), '0.25': grow(3), '1': grow(4.5), '2.5': grow(5), '+Inf': grow(5.2) }),
    // Not monotonic: a lower bucket with more than a higher one (Prometheus "fixes" it).
    ...histogram({ svc: 'nonmono' }, { '0.1': grow(2), '0.25': grow(1.5), '1': grow(4), '+Inf': grow(3.8) }),
    // No +Inf bucket: NaN.
    ...histogram({ svc: 'noinf' }, { '0.1': grow(1), '1': grow(2) }),
    // Only the +Inf bucket: NaN (fewer than two buckets).
    ...histogram({ svc: 'onlyinf' }, { '+Inf': grow(2) }),
    // Empty histogram: zero observations, NaN.
    ...histogram({ svc: 'empty' }, { '0.5': () => 0, '1': () => 0, '+Inf': () => 0 }),
    // Everything in the lowest buckets.
    ...histogram({ svc: 'low' }, { '0.1': grow(2), '0.5': grow(2), '+Inf': grow(2) }),
    // The same bucket twice in different spellings (coalesced), and spelling variants of +Inf.
    ...histogram({ svc: 'dup' }, { '1': grow(1), '1.0': grow(0.5), '5': grow(2), 'Inf': grow(3) }),
  ];
}

/** Odd `le` labels, in an untyped family so that no parser has an opinion about them. */
function oddBuckets(): Series[] {
  const b = (labels: Record<string, string>, v: (i: number) => number): Series => ({ name: 'odd_bucket', labels, samples: regular(v) });
  return [
    // Negative buckets: the quantile may fall into the first bucket with a non-positive bound.
    b({ h: 'neg', le: '-5' }, (i) => i), b({ h: 'neg', le: '-1' }, (i) => 2 * i), b({ h: 'neg', le: '0' }, (i) => 2 * i),
    b({ h: 'neg', le: '3' }, (i) => 3 * i), b({ h: 'neg', le: '+Inf' }, (i) => 3 * i + 1),
    // Unparsable, out-of-range and hexadecimal bounds (skipped, skipped, parsed), and a NaN bound.
    b({ h: 'weird', le: 'abc' }, (i) => i), b({ h: 'weird', le: '1e400' }, (i) => i), b({ h: 'weird', le: '0x1p-2' }, (i) => i),
    b({ h: 'weird', le: '2' }, (i) => 2 * i), b({ h: 'weird', le: '+inf' }, (i) => 4 * i), b({ h: 'weird', le: ' 3' }, (i) => 3 * i),
    b({ h: 'nan', le: 'NaN' }, (i) => i), b({ h: 'nan', le: '1' }, (i) => 2 * i), b({ h: 'nan', le: '+Inf' }, (i) => 3 * i),
    // Underscores between digits are Go float syntax.
    b({ h: 'under', le: '1_0' }, (i) => i), b({ h: 'under', le: '0x1_0p0' }, (i) => 2 * i), b({ h: 'under', le: '_1' }, (i) => 3 * i),
    b({ h: 'under', le: '2__0' }, (i) => 3 * i), b({ h: 'under', le: '+Inf' }, (i) => 4 * i), b({ h: 'under', le: '1e-400' }, (i) => i / 2),
    // NaN and Inf counts.
    b({ h: 'nancount', le: '1' }, (i) => (i % 2 ? NaN : i)), b({ h: 'nancount', le: '2' }, (i) => 2 * i), b({ h: 'nancount', le: '+Inf' }, (i) => 3 * i),
    b({ h: 'infcount', le: '1' }, () => 1), b({ h: 'infcount', le: '2' }, () => Infinity), b({ h: 'infcount', le: '+Inf' }, () => Infinity),
    // Many buckets (more than 12: the bucket sort leaves insertion sort) with decreasing counts.
    ...Array.from({ length: 20 }, (_, k) => b({ h: 'many', le: k === 19 ? '+Inf' : String(k * 0.5) }, (i) => (i % 2 ? (20 - k) * i : k * i))),
  ];
}

/** Label values for label_replace/label_join tests. */
function labelled(): Series[] {
  const s = (labels: Record<string, string>): Series => ({ name: 'lbl', labels, samples: regular((i) => i) });
  return [
    s({ a: 'foo-bar', b: 'x', c: '' }),
    s({ a: 'foo', b: 'y', d: 'dd' }),
    s({ a: 'bar-baz-qux', b: 'z' }),
    s({ b: 'nothing' }),
    s({ a: 'ünïcode-é', b: '∂' }),
    s({ a: '12', b: 'w', dst: 'old' }),
    // Differing in `b` only: removing it makes a duplicate label set.
    s({ a: 'dup', b: '1' }),
    s({ a: 'dup', b: '2' }),
    { name: 'lbl2', labels: { a: 'dup', b: '1' }, samples: regular((i) => -i) },
  ];
}

function families(): Family[] {
  return [
    { name: 'req', type: 'counter', series: counters() },
    { name: 'temp', type: 'gauge', series: gauges() },
    { name: 'stamp', type: 'gauge', series: timestamps() },
    { name: 'lat', type: 'histogram', series: histograms() },
    { name: 'odd', type: 'unknown', series: oddBuckets() },
    { name: 'lbl', type: 'gauge', series: labelled().filter((s) => s.name === 'lbl') },
    { name: 'lbl2', type: 'gauge', series: labelled().filter((s) => s.name === 'lbl2') },
  ];
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatSeriesLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels).filter(([, v]) => v !== '');
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

export function datasetOpenMetrics(): string {
  const lines: string[] = [];
  for (const f of families()) {
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.series) {
      const labels = formatSeriesLabels(s.labels);
      for (const [t, v] of s.samples) lines.push(`${s.name}${labels} ${formatValue(v)} ${t}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

// --- comparing the router's answers with the oracle's ----------------------------------------------

/** Evaluation time in ms as Prometheus derives it from a `time` parameter in seconds (ms precision). */
export function evalMillis(timeSeconds: number): number {
  return Math.round(timeSeconds * 1000);
}

function showValue(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Asserts that two instant vectors hold the same samples: same label sets, and values that are
 * bit-for-bit equal (`exact`, NaN equal to NaN) or equal to 1e-9 relative (sameFloat). `ordered` also
 * compares the order. Failures show both vectors as text.
 */
export function expectSameVector(actual: Vector, expected: Vector, opts: { exact: boolean; ordered?: boolean; context: string }): void {
  const show = (v: Vector) => v.map((s) => `${formatLabels(s.labels)} ${showValue(s.value)}`);
  const byKey = new Map(expected.map((s) => [labelsKey(s.labels), s.value]));
  // Where the values agree as required, print the expected value for both, so only real differences show.
  const normalised = actual.map((s): Sample => {
    const want = byKey.get(labelsKey(s.labels));
    const agrees = want !== undefined && (opts.exact ? Object.is(s.value, want) || (Number.isNaN(s.value) && Number.isNaN(want)) : sameFloat(s.value, want));
    return agrees ? { labels: s.labels, value: want } : s;
  });
  const a = show(normalised);
  const e = show(expected);
  if (!opts.ordered) {
    a.sort();
    e.sort();
  }
  expect(a, opts.context).toEqual(e);
}
