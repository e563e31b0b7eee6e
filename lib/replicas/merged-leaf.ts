// A merged leaf (lib/engine/merged-form.ts) evaluated on a grid from the replicas' merged samples, with
// Prometheus's selection rules: an instant selector takes the latest sample at most the lookback delta
// (5m, or the request's `lookback_delta` where the replicas read it) before the evaluation time, unless
// that sample is a staleness marker; a range selector takes the samples in [t - range, t], staleness
// markers left out. 2.x includes both ends; 3.x leaves the start out, `(t - range, t]`, for the
// lookback as for ranges.
import { gridTimes, resolveAt, type Grid, type QueryTimes } from '../engine/grid.ts';
import { RANGE_FUNCTIONS } from '../engine/kernels/range.ts';
import { dropMetricName, labelsKey } from '../engine/labels.ts';
import type { Answer, CollectedSeries } from '../engine/execution/run.ts';
import { EvaluationError } from '../errors.ts';
import type { Labels, Point } from '../engine/types.ts';
import { compareLabelSets } from '../labelsets.ts';
import { keepsMetricName } from '../promql/function-table.ts';
import { offsetMs, type MergedForm } from '../engine/merged-form.ts';
import type { Major } from '../promql/function-table.ts';

/** Prometheus's default lookback delta. */
export const DEFAULT_LOOKBACK_MS = 5 * 60_000;

/** How the replicas' Prometheus selects samples for this request: its major, and the lookback delta (ms). */
export interface SelectionRules {
  readonly major: Major;
  readonly lookbackMs: number;
}

/** One series with its samples, timestamps ascending (epoch ms). */
export interface MergedSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** The time range [start, end] (ms) a merged leaf reads to be evaluated on `grid`. */
export function readRange(form: MergedForm, grid: Grid, lookbackMs: number): { start: number; end: number } {
  const back = form.kind === 'matrix' || form.kind === 'range' ? form.rangeMs : lookbackMs;
  const offset = offsetMs(form.selector);
  const { at } = form.selector;
  // resolveAt with the grid's own ends: `@ start()` in a leaf names the grid it is asked on, as it
  // does when a collector evaluates the leaf.
  const first = at === null ? grid.start : resolveAt(at, gridTimesOf(grid, 2));
  const last = at === null ? grid.end : first;
  return { start: first - offset - back, end: last - offset };
}

/** The leaf's answer on `grid`: a matrix on a range grid (or for a bare matrix selector), a vector on an instant one. */
export function evaluateMergedLeaf(form: MergedForm, series: readonly MergedSeries[], grid: Grid, rules: SelectionRules): Answer {
  const { major } = rules;
  const times = gridTimes(grid);
  const offset = offsetMs(form.selector);
  const { at } = form.selector;
  const evalTime = (t: number) => (at === null ? t : resolveAt(at, gridTimesOf(grid, major)));
  // 3.x leaves a window's start out (and the lookback's): its first sample is 1 ms later.
  const open = major === 3 ? 1 : 0;
  const sorted = [...series].sort((a, b) => compareLabelSets(a.labels, b.labels));

  if (form.kind === 'matrix') {
    const te = evalTime(grid.start) - offset;
    const out = sorted.map((s) => ({ labels: s.labels, points: windowPoints(s, te - form.rangeMs + open, te) }));
    return { type: 'matrix', series: out.filter((s) => s.points.length > 0) };
  }
  const dropName = form.kind === 'timestamp' || (form.kind === 'range' && !keepsMetricName(form.fn));
  const out: CollectedSeries[] = sorted.map((s) => ({ labels: dropName ? dropMetricName(s.labels) : s.labels, points: [] }));
  for (const t of times) {
    const te = evalTime(t) - offset;
    for (const [i, s] of sorted.entries()) {
      const v = valueAt(form, s, te, evalTime(t), rules);
      if (v !== undefined) out[i]!.points.push({ t, v });
    }
  }
  checkDistinct(out);
  if (grid.step > 0 && grid.start !== grid.end) return { type: 'matrix', series: out.filter((s) => s.points.length > 0) };
  return { type: 'vector', t: grid.start, samples: out.filter((s) => s.points.length > 0).map((s) => ({ labels: s.labels, value: s.points[0]!.v })) };
}

function valueAt(form: Exclude<MergedForm, { kind: 'matrix' }>, s: MergedSeries, te: number, evalMs: number, { major, lookbackMs }: SelectionRules): number | undefined {
  const open = major === 3 ? 1 : 0;
  if (form.kind === 'range') {
    const points = windowPoints(s, te - form.rangeMs + open, te);
    if (points.length === 0) return undefined;
    return RANGE_FUNCTIONS[form.fn]!(points, { evalMs, startMs: te - form.rangeMs, endMs: te, rangeMs: form.rangeMs, major }, form.scalars);
  }
  const i = lastAtOrBefore(s.timestamps, te);
  if (i < 0 || s.timestamps[i]! < te - lookbackMs + open || isStaleMarker(s.values, i)) return undefined;
  return form.kind === 'timestamp' ? s.timestamps[i]! / 1000 : s.values[i]!;
}

/** The samples with start <= t <= end, staleness markers left out. */
function windowPoints(s: MergedSeries, start: number, end: number): Point[] {
  const points: Point[] = [];
  for (let i = lastAtOrBefore(s.timestamps, start - 1) + 1; i < s.timestamps.length && s.timestamps[i]! <= end; i++) {
    if (!isStaleMarker(s.values, i)) points.push({ t: s.timestamps[i]!, v: s.values[i]! });
  }
  return points;
}

/** The index of the last timestamp <= t, or -1. */
function lastAtOrBefore(timestamps: Float64Array, t: number): number {
  let lo = 0;
  let hi = timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timestamps[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Prometheus marks a series' end with one NaN of its own (value.StaleNaN, 0x7ff0000000000002). */
export function isStaleMarker(values: Float64Array, i: number): boolean {
  if (!Number.isNaN(values[i]!)) return false;
  const words = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  return words[1] === 0x7ff00000 && words[0] === 0x00000002;
}

/** Prometheus refuses two series with one label set at one step (names dropped by a function). */
function checkDistinct(series: readonly CollectedSeries[]): void {
  const byKey = new Map<string, CollectedSeries[]>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    byKey.set(key, [...(byKey.get(key) ?? []), s]);
  }
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    const seen = new Set<number>();
    for (const s of group) {
      for (const p of s.points) {
        if (seen.has(p.t)) throw new EvaluationError('vector cannot contain metrics with the same labelset');
        seen.add(p.t);
      }
    }
  }
}

/** The grid's own ends, for `@ start()` / `@ end()` in a leaf: they name the grid it is asked on, as on a collector. */
function gridTimesOf(grid: Grid, major: Major): QueryTimes {
  return { start: grid.start, end: grid.end, defaultSubqueryStepMs: 0, major };
}
