// Evaluation timestamps: a query's step grid, and the grids of the subqueries the router evaluates.
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
 * multiples of its step (Prometheus aligns them to absolute time) in [start - offset - range, end - offset].
 */
export function subqueryGrid(sub: Extract<Expr, { kind: 'subquery' }>, outer: Grid, times: QueryTimes): Grid {
  const step = sub.stepMs ?? times.defaultSubqueryStepMs;
  const start = sub.at === null ? outer.start : resolveAt(sub.at, times);
  const end = sub.at === null ? outer.end : resolveAt(sub.at, times);
  const lowest = start - sub.offsetMs - sub.rangeMs;
  // Go's integer division truncates toward zero; the first aligned time not before `lowest`.
  let first = Math.trunc(lowest / step) * step;
  if (first < lowest) first += step;
  return { start: first, end: end - sub.offsetMs, step };
}

/** The grid each leaf must be fetched on, given the query's grid. */
export function leafGrids(expr: Expr, grid: Grid, times: QueryTimes, out = new Map<number, Grid>()): Map<number, Grid> {
  switch (expr.kind) {
    case 'leaf': out.set(expr.leaf.id, grid); break;
    case 'subquery': leafGrids(expr.expr, subqueryGrid(expr, grid, times), times, out); break;
    case 'call': for (const a of expr.args) leafGrids(a, grid, times, out); break;
    case 'absent': case 'negate': leafGrids(expr.expr, grid, times, out); break;
    case 'aggregate':
      if (expr.param !== null) leafGrids(expr.param, grid, times, out);
      leafGrids(expr.expr, grid, times, out);
      break;
    case 'mergeVariance': for (const e of [expr.count, expr.mean, expr.variance]) leafGrids(e, grid, times, out); break;
    case 'binary': leafGrids(expr.lhs, grid, times, out); leafGrids(expr.rhs, grid, times, out); break;
    case 'number': case 'string': break;
  }
  return out;
}
