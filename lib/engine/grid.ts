// Evaluation timestamps: a query's step grid, and the grids of the subqueries the router evaluates.
import type { Major } from '../promql/functions.ts';
import type { At, Expr } from './expr.ts';

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
export function subqueryGrid(sub: Extract<Expr, { kind: 'subquery' }>, outer: Grid, times: QueryTimes): Grid {
  const step = sub.stepMs ?? times.defaultSubqueryStepMs;
  const start = sub.at === null ? outer.start : resolveAt(sub.at, times);
  let end = sub.at === null ? outer.end : resolveAt(sub.at, times);
  if (times.major === 3 && sub.at === null && outer.step > 0) end = outer.start + Math.floor((end - outer.start) / outer.step) * outer.step;
  const lowest = start - sub.offsetMs - sub.rangeMs;
  // Go's integer division truncates toward zero; the first aligned time after (3.x) or not before (2.x) `lowest`.
  let first = Math.trunc(lowest / step) * step;
  if (first < lowest || (times.major === 3 && first === lowest)) first += step;
  return { start: first, end: end - sub.offsetMs, step };
}

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
      const last = g.step > 0 ? g.start + Math.floor((g.end - g.start) / g.step) * g.step : g.start;
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
