// The combination of collectors' query statistics across shards (the rules in lib/api/query-stats.ts);
// the sums against a real global Prometheus are in test/e2e/grafana.test.ts.
import { describe, expect, it } from 'vitest';
import { StatsSum } from '../../lib/api/query-stats.ts';

const timings = (t: number) => ({
  evalTotalTime: t, resultSortTime: 0, queryPreparationTime: t / 4, innerEvalTime: t / 2, execQueueTime: 0, execTotalTime: t,
});
const grid = { start: 60_000, end: 180_000, step: 60_000 };

describe('StatsSum', () => {
  it('sums timings and samples read, takes the largest peak (the router\'s included), sums per step', () => {
    const sum = new StatsSum();
    sum.add({ timings: timings(0.5), samples: { totalQueryableSamplesPerStep: [[60, 1], [120, 2]], totalQueryableSamples: 3, peakSamples: 7 } });
    sum.add({ timings: timings(0.25), samples: { totalQueryableSamplesPerStep: [[120, 5], [180, 1]], totalQueryableSamples: 6, peakSamples: 4 } });
    expect(sum.result(grid, 0)).toEqual({
      timings: timings(0.75),
      samples: { totalQueryableSamplesPerStep: [[60, 1], [120, 7], [180, 1]], totalQueryableSamples: 9, peakSamples: 7 },
    });
    expect(sum.result(grid, 20).samples.peakSamples).toBe(20);
  });

  it('has no per-step counts when a request answered none, or counts off the query\'s steps (a subquery\'s)', () => {
    const without = new StatsSum();
    without.add({ timings: timings(1), samples: { totalQueryableSamplesPerStep: [[60, 1]], totalQueryableSamples: 1, peakSamples: 1 } });
    without.add({ timings: timings(1), samples: { totalQueryableSamples: 2, peakSamples: 1 } });
    expect(without.result(grid, 0).samples).toEqual({ totalQueryableSamples: 3, peakSamples: 1 });
    const offGrid = new StatsSum();
    offGrid.add({ timings: timings(1), samples: { totalQueryableSamplesPerStep: [[90, 1]], totalQueryableSamples: 1, peakSamples: 1 } });
    expect(offGrid.result(grid, 0).samples).not.toHaveProperty('totalQueryableSamplesPerStep');
  });

  it('a collector without statistics, or with another shape, adds nothing and fails nothing', () => {
    const sum = new StatsSum();
    sum.add(undefined);
    sum.add({ timings: 'fast', samples: null });
    sum.add({ timings: timings(1), samples: { totalQueryableSamples: 5, peakSamples: 2, samplesRead: 5 } });
    expect(sum.result(grid, 0)).toEqual({ timings: timings(1), samples: { totalQueryableSamples: 5, peakSamples: 2 } });
  });
});
