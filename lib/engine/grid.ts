// Evaluation timestamps: a query's step grid, and the grids of the subqueries the router evaluates.
import type { Major } from '../promql/function-table.ts';
import type { At, Expr } from './expr.ts';

/**
 * Prometheus refuses range queries with more points per series than this: the API refuses such a
 * query, and the router splits a longer grid of its own (a subquery's) into requests of this many.
 */
export const MAX_POINTS_PER_SERIES = 11_000;

/** Timestamps start, start+step, ... <= end, in epoch ms. An instant evaluation has start === end. */
export interface Grid {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

export interface QueryTimes {
  /** The query's own start and end (for `@ start()` / `@ end()`); equal for an instant query. */
  readonly start: number;
  readonly end: number;
  /** The step of subqueries written without one (`[5m:]`): Prometheus's evaluation interval. */
  readonly defaultSubqueryStepMs: number;
  /**
   * The Prometheus major whose semantics the router's own evaluation follows: 3.x opens range windows
   * and subquery grids at their start, `(t - range, t]`, where 2.x closes them, `[t - range, t]`.
   */
  readonly major: Major;
}

/** The grid's last timestamp: `end` itself only where the step lands on it (an instant grid's: `start`). */
export function lastStep(grid: Grid): number {
  return grid.step > 0 ? grid.start + Math.floor((grid.end - grid.start) / grid.step) * grid.step : grid.start;
}

export function gridTimes(grid: Grid): number[] {
  if (grid.start > grid.end) return [];
  if (grid.step <= 0 || grid.start === grid.end) return [grid.start];
  const out: number[] = [];
  for (let t = grid.start; t <= grid.end; t += grid.step) out.push(t);
  return out;
}

export function resolveAt(at: At, times: QueryTimes): number {
  return at.kind === 'time' ? at.ms : at.kind === 'start' ? times.start : times.end;
}

/**
 * The timestamps at which a subquery evaluates its expression for outer timestamps from `outer`:
 * multiples of its step (Prometheus aligns them to absolute time) in [start - offset - range, end - offset]
 * (2.x), or in (start - offset - range, end - offset] with `end` the outer grid's last step (3.x).
 */
export function subqueryGrid(sub: Subquery, outer: Grid, times: QueryTimes): Grid {
  const step = sub.stepMs ?? times.defaultSubqueryStepMs;
  // 3.x evaluates the subquery up to the outer grid's last step, not to its end parameter.
  const lastOuter = times.major === 3 ? lastStep(outer) : outer.end;
  const lowest = subqueryWindow(sub, outer.start, times).startMs;
  // Go's integer division truncates toward zero; the first aligned time after (3.x) or not before (2.x) `lowest`.
  let first = Math.trunc(lowest / step) * step;
  if (first < lowest || (times.major === 3 && first === lowest)) first += step;
  return { start: first, end: subqueryWindow(sub, lastOuter, times).endMs, step };
}

/** What decides a step's window: a subquery's or a range selector's range, offset and `@`. */
export interface StepWindow {
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly at: At | null;
}

/**
 * The window a subquery or range selector shows at outer time `t`: ending `offset` before its
 * evaluation time `at` (the @ modifier's time where it has one, else `t`), `range` long. Closed at
 * both ends in 2.x; 3.x leaves out its start (`startMs` itself).
 */
export function subqueryWindow(window: StepWindow, t: number, times: QueryTimes): { at: number; startMs: number; endMs: number } {
  const at = window.at === null ? t : resolveAt(window.at, times);
  const endMs = at - window.offsetMs;
  return { at, startMs: endMs - window.rangeMs, endMs };
}

type Subquery = Extract<Expr, { kind: 'subquery' }>;

/** The number of timestamps of a grid, without listing them (a subquery's grid may have millions). */
export function gridSize(grid: Grid): number {
  if (grid.start > grid.end) return 0;
  if (grid.step <= 0 || grid.start === grid.end) return 1;
  return Math.floor((grid.end - grid.start) / grid.step) + 1;
}

/** Calls `visit` with every node of `expr` and the grid it is evaluated on, given the query's grid. */
function walkGrids(expr: Expr, grid: Grid, times: QueryTimes, visit: (expr: Expr, grid: Grid) => void): void {
  visit(expr, grid);
  const walk = (e: Expr, g = grid) => walkGrids(e, g, times, visit);
  switch (expr.kind) {
    case 'subquery': walk(expr.expr, subqueryGrid(expr, grid, times)); break;
    case 'call': for (const a of expr.args) walk(a); break;
    case 'absent': case 'negate': walk(expr.expr); break;
    case 'aggregate':
      if (expr.param !== null) walk(expr.param);
      walk(expr.expr);
      break;
    case 'mergeMoments': for (const e of [expr.count, expr.mean, expr.other]) walk(e); break;
    case 'binary': walk(expr.lhs); walk(expr.rhs); break;
    case 'leaf': case 'rangeLeaf': case 'number': case 'string': break;
  }
}

/**
 * The grid each leaf must be fetched on, given the query's grid: a raw leaf (a range selector's
 * samples, asked for as far back as the whole grid needs) once, at the grid's last step.
 */
export function leafGrids(expr: Expr, grid: Grid, times: QueryTimes): Map<number, Grid> {
  const out = new Map<number, Grid>();
  walkGrids(expr, grid, times, (e, g) => {
    if (e.kind === 'leaf') out.set(e.leaf.id, g);
    if (e.kind === 'rangeLeaf') {
      const last = lastStep(g);
      out.set(e.leaf.id, { start: last, end: last, step: 0 });
    }
  });
  return out;
}

/** The steps at which the router evaluates subqueries' expressions (each held until the query is done). */
export function subquerySteps(expr: Expr, grid: Grid, times: QueryTimes): number {
  let steps = 0;
  walkGrids(expr, grid, times, (e, g) => {
    if (e.kind === 'subquery') steps += gridSize(subqueryGrid(e, g, times));
  });
  return steps;
}
