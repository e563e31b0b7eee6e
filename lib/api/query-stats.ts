// Prometheus's query statistics (`stats=<anything>` on /query and /query_range: `data.stats`, as
// Prometheus 2.42's web/api/v1 and util/stats write them) for a query the router answers across
// shards: the collectors' statistics of every request the query cost, combined field by field.
//
//   timings.*                     summed: the time the collectors' engines spent on the query in
//                                 all, not the answer's wall time (shards work in parallel; the wall
//                                 times are in the Server-Timing header: `router`, `shard-<name>`)
//   samples.totalQueryableSamples summed: samples read from storage, which only collectors do
//   samples.totalQueryableSamplesPerStep
//                                 summed per timestamp, given only when every request answered one
//                                 (`stats=all` on a collector run with --enable-feature=
//                                 promql-per-step-stats in 2.x) and every timestamp is one of the
//                                 query's own steps; leaves on other grids (subqueries) have no
//                                 place among the query's steps, so then there is none
//   samples.peakSamples           the largest of the collectors' peaks and the router's own: a peak
//                                 is one process's memory high-water mark, which sums of different
//                                 processes' peaks at different times are not
import * as v from 'valibot';
import type { Grid } from '../engine/grid.ts';

const TIMINGS = ['evalTotalTime', 'resultSortTime', 'queryPreparationTime', 'innerEvalTime', 'execQueueTime', 'execTotalTime'] as const;

const count = v.pipe(v.number(), v.finite());
/** What the router reads of a collector's `data.stats`; other fields (newer versions') are ignored. */
const CollectorStats = v.looseObject({
  timings: v.optional(v.looseObject(Object.fromEntries(TIMINGS.map((name) => [name, v.optional(count, 0)])) as Record<(typeof TIMINGS)[number], v.OptionalSchema<typeof count, 0>>)),
  samples: v.optional(v.looseObject({
    totalQueryableSamplesPerStep: v.optional(v.array(v.tuple([count, count]))),
    totalQueryableSamples: v.optional(count, 0),
    peakSamples: v.optional(count, 0),
  })),
});

export interface QueryStats {
  readonly timings: Record<(typeof TIMINGS)[number], number>;
  readonly samples: { totalQueryableSamplesPerStep?: [number, number][]; totalQueryableSamples: number; peakSamples: number };
}

/** The statistics of the collector requests of one query, added up as they arrive. */
export class StatsSum {
  private readonly timings = Object.fromEntries(TIMINGS.map((name) => [name, 0])) as Record<(typeof TIMINGS)[number], number>;
  private total = 0;
  private peak = 0;
  /** Samples per step, by epoch ms; null once a request answered none (or off the query's steps). */
  private perStep: Map<number, number> | null = new Map();
  private requests = 0;

  /**
   * Adds one collector answer's `data.stats` (parsed JSON; undefined where the answer had none). A
   * collector that sends none or another shape (an older version) leaves the sum without it: the
   * statistics are for people reading them, never a reason to fail the query.
   */
  add(stats: unknown): void {
    this.requests++;
    const checked = v.safeParse(CollectorStats, stats);
    if (!checked.success) {
      this.perStep = null;
      return;
    }
    const { timings, samples } = checked.output;
    for (const name of TIMINGS) this.timings[name] += timings?.[name] ?? 0;
    this.total += samples?.totalQueryableSamples ?? 0;
    this.peak = Math.max(this.peak, samples?.peakSamples ?? 0);
    const steps = samples?.totalQueryableSamplesPerStep;
    if (steps === undefined) {
      this.perStep = null;
      return;
    }
    for (const [seconds, n] of steps) {
      const ms = Math.round(seconds * 1000);
      this.perStep?.set(ms, (this.perStep.get(ms) ?? 0) + n);
    }
  }

  /** The combined statistics on the query's grid, with the router's own peak (samples its engine held). */
  result(grid: Grid, routerPeak: number): QueryStats {
    const perStep = this.perStep;
    const stepped = perStep !== null && this.requests > 0 && [...perStep.keys()].every((ms) => onGrid(ms, grid));
    // Prometheus's field order: the per-step list (when there is one) first.
    const samples: QueryStats['samples'] = stepped ? { totalQueryableSamplesPerStep: [...perStep].sort(([a], [b]) => a - b).map(([ms, n]) => [ms / 1000, n]), totalQueryableSamples: 0, peakSamples: 0 } : { totalQueryableSamples: 0, peakSamples: 0 };
    samples.totalQueryableSamples = this.total;
    samples.peakSamples = Math.max(this.peak, routerPeak);
    return { timings: { ...this.timings }, samples };
  }
}

function onGrid(ms: number, grid: Grid): boolean {
  if (ms < grid.start || ms > grid.end) return false;
  return grid.step <= 0 ? ms === grid.start : (ms - grid.start) % grid.step === 0;
}
