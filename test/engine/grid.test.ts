// Evaluation timestamps (lib/engine/grid.ts): a query's grid, the grids of the subqueries the router
// evaluates (aligned to absolute time as Prometheus aligns them, Go's truncating division included),
// the window a subquery shows at each outer step, and the grid each leaf is fetched on.
import { describe, expect, it } from 'vitest';
import type { Expr, Leaf } from '../../lib/engine/expr.ts';
import { gridSize, gridTimes, leafGrids, subqueryGrid, subquerySteps, subqueryWindow, type QueryTimes } from '../../lib/engine/grid.ts';
import { planQuery } from '../../lib/promql/plan.ts';

const TIMES: QueryTimes = { start: 100_000, end: 200_000, defaultSubqueryStepMs: 60_000, major: 2 };

type Subquery = Extract<Expr, { kind: 'subquery' }>;

function leaf(id: number): Expr {
  const plan = planQuery('x', 'cluster', ['a']);
  const l: Leaf = { id, plan, shards: plan.shards, partial: false };
  return { kind: 'leaf', leaf: l };
}

function subquery(expr: Expr, rangeMs: number, stepMs: number | null, offsetMs = 0, at: Subquery['at'] = null): Subquery {
  return { kind: 'subquery', expr, rangeMs, stepMs, offsetMs, at };
}

describe('a grid', () => {
  it('lists start, start+step, ... up to end, or the one time of an instant evaluation', () => {
    expect(gridTimes({ start: 0, end: 45, step: 15 })).toEqual([0, 15, 30, 45]);
    expect(gridTimes({ start: 0, end: 44, step: 15 })).toEqual([0, 15, 30]);
    expect(gridTimes({ start: 7, end: 7, step: 0 })).toEqual([7]);
    expect(gridTimes({ start: 8, end: 7, step: 1 })).toEqual([]);
  });

  it('counts its times without listing them', () => {
    for (const grid of [{ start: 0, end: 45, step: 15 }, { start: 0, end: 44, step: 15 }, { start: 7, end: 7, step: 0 }, { start: 8, end: 7, step: 1 }]) {
      expect(gridSize(grid)).toBe(gridTimes(grid).length);
    }
    expect(gridSize({ start: 0, end: 86_400_000, step: 1 })).toBe(86_400_001);
  });
});

describe('a subquery', () => {
  it('evaluates its expression at multiples of its step from the first not before start - offset - range', () => {
    // [5m:1m] at 100 s..200 s: from 100 - 300 = -200 s, the first multiple of 60 s not before it is -180 s.
    expect(subqueryGrid(subquery(leaf(0), 300_000, 60_000), { start: 100_000, end: 200_000, step: 10_000 }, TIMES))
      .toEqual({ start: -180_000, end: 200_000, step: 60_000 });
    // Positive: 130 s - 60 s = 70 s, aligned up to 80 s (steps of 20 s).
    expect(subqueryGrid(subquery(leaf(0), 60_000, 20_000), { start: 130_000, end: 130_000, step: 0 }, TIMES))
      .toEqual({ start: 80_000, end: 130_000, step: 20_000 });
  });

  it('takes the default step where it has none, and moves with offset and @', () => {
    const grid = { start: 100_000, end: 200_000, step: 10_000 };
    expect(subqueryGrid(subquery(leaf(0), 120_000, null), grid, TIMES).step).toBe(60_000);
    expect(subqueryGrid(subquery(leaf(0), 60_000, 10_000, 30_000), grid, TIMES)).toEqual({ start: 10_000, end: 170_000, step: 10_000 });
    // @ end(): every outer step sees the window ending at the query's end.
    expect(subqueryGrid(subquery(leaf(0), 60_000, 10_000, 0, { kind: 'end' }), grid, TIMES)).toEqual({ start: 140_000, end: 200_000, step: 10_000 });
    expect(subqueryGrid(subquery(leaf(0), 60_000, 10_000, 0, { kind: 'time', ms: 50_000 }), grid, TIMES)).toEqual({ start: -10_000, end: 50_000, step: 10_000 });
  });

  it('shows at each outer step the window that ends offset before its evaluation time', () => {
    const sub = subquery(leaf(0), 60_000, 10_000, 5_000);
    expect(subqueryWindow(sub, 150_000, TIMES)).toEqual({ at: 150_000, startMs: 85_000, endMs: 145_000 });
    const pinned = subquery(leaf(0), 60_000, 10_000, 5_000, { kind: 'start' });
    expect(subqueryWindow(pinned, 150_000, TIMES)).toEqual({ at: 100_000, startMs: 35_000, endMs: 95_000 });
  });

  it('spans the windows of its first and last outer steps', () => {
    const sub = subquery(leaf(0), 60_000, 10_000, 5_000);
    const outer = { start: 100_000, end: 200_000, step: 25_000 };
    const grid = subqueryGrid(sub, outer, TIMES);
    expect(grid.start).toBeGreaterThanOrEqual(subqueryWindow(sub, outer.start, TIMES).startMs);
    expect(grid.start - sub.stepMs!).toBeLessThan(subqueryWindow(sub, outer.start, TIMES).startMs);
    expect(grid.end).toBe(subqueryWindow(sub, outer.end, TIMES).endMs);
  });
});

describe('leaves and subqueries of an expression', () => {
  // max_over_time(x[5m:1m]) + y: leaf 0 on the subquery's grid, leaf 1 on the query's.
  const expr: Expr = {
    kind: 'binary', op: '+', bool: false, matching: { card: 'one-to-one', on: false, labels: [], include: [] },
    lhs: { kind: 'call', name: 'max_over_time', args: [subquery(leaf(0), 300_000, 60_000)] },
    rhs: leaf(1),
  };
  const grid = { start: 100_000, end: 200_000, step: 10_000 };

  it('fetches each leaf on the grid it is evaluated on', () => {
    expect(leafGrids(expr, grid, TIMES)).toEqual(new Map([[0, { start: -180_000, end: 200_000, step: 60_000 }], [1, grid]]));
  });

  it('counts the steps the router evaluates subqueries at, nested ones on their outer grid', () => {
    expect(subquerySteps(expr, grid, TIMES)).toBe(gridSize({ start: -180_000, end: 200_000, step: 60_000 }));
    const nested = subquery({ kind: 'call', name: 'max_over_time', args: [subquery(leaf(0), 120_000, 30_000)] }, 60_000, 60_000);
    const outer = subqueryGrid(nested, grid, TIMES);
    const inner = subqueryGrid(nested.expr.kind === 'call' ? nested.expr.args[0] as Subquery : nested, outer, TIMES);
    expect(subquerySteps(nested, grid, TIMES)).toBe(gridSize(outer) + gridSize(inner));
  });
});
