// How a range query's steps are cut into extents, the unit the results cache stores. Extents are fixed
// runs of steps on the query's own grid, aligned to absolute time (as Thanos's and Mimir's query
// frontends align their splits), so two windows over the same grid share every extent they both cover
// fully, whatever their start: a dashboard moved by 30 s finds all but its newest extents stored.

/** A range query's grid in epoch ms: start, start+step, ... <= end. */
export interface StepRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/** An extent lasts about this long, in whole steps (a dashboard's refresh then recomputes little)... */
const EXTENT_TARGET_MS = 15 * 60_000;
/** ...and has at least this many steps, so that a 7-day window at 5 min is tens of extents, not hundreds. */
const MIN_EXTENT_STEPS = 30;
/** ...and at most this many (a tiny step must not make one extent a query of its own size). */
const MAX_EXTENT_STEPS = 1_000;

/** Prometheus refuses range queries of more points; a query the cache sends stays within it. */
export const MAX_POINTS_PER_QUERY = 11_000;

/** Where the extents of a grid stand: a function of the step and the grid's phase only, never of the window. */
export interface ExtentLayout {
  readonly step: number;
  /** start mod step: grids of another phase have other timestamps, and other extents. */
  readonly phase: number;
  readonly stepsPerExtent: number;
}

export function layoutOf(range: StepRange): ExtentLayout {
  const { step } = range;
  const stepsPerExtent = Math.min(MAX_EXTENT_STEPS, Math.max(MIN_EXTENT_STEPS, Math.ceil(EXTENT_TARGET_MS / step)));
  return { step, phase: mod(range.start, step), stepsPerExtent };
}

/** The extent holding grid timestamp `t`. */
export function extentIndex(layout: ExtentLayout, t: number): number {
  return Math.floor((t - layout.phase) / (layout.step * layout.stepsPerExtent));
}

/** The grid timestamps of extent `index`: all of them, whatever part of it a query asks for. */
export function extentRange(layout: ExtentLayout, index: number): StepRange {
  const length = layout.step * layout.stepsPerExtent;
  const start = layout.phase + index * length;
  return { start, end: start + length - layout.step, step: layout.step };
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
