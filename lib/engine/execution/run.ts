// Runs an operator tree to the end and collects the answer: a matrix for range queries, the root's
// value at the one step for instant queries. Between batches it lets other requests run, so that one
// long evaluation never stalls the process (health checks, other users' queries); a range query's
// answer is charged to the query's sample budget as it grows.
import type { SampleBudget } from '../budget.ts';
import type { Labels, Point } from '../types.ts';
import type { Operator } from './operator.ts';

export interface CollectedSeries {
  readonly labels: Labels;
  readonly points: Point[];
}

export type Answer =
  | { readonly type: 'matrix'; readonly series: readonly CollectedSeries[] }
  | { readonly type: 'vector'; readonly t: number; readonly samples: readonly { readonly labels: Labels; readonly value: number }[] }
  | { readonly type: 'scalar'; readonly t: number; readonly value: number }
  | { readonly type: 'string'; readonly t: number; readonly value: string };

/** Every step of a range query: series by label set (a label set may come from several steps). */
export async function collectRange(root: Operator, times: readonly number[], yieldPoint: () => Promise<void>, budget: SampleBudget): Promise<Answer> {
  const series: CollectedSeries[] = [];
  if (root.type === 'scalar') {
    const points: Point[] = [];
    for (let values = await root.next(); values !== null; values = await root.next()) {
      for (const v of values) points.push({ t: times[points.length]!, v });
      budget.charge(values.length);
      await yieldPoint();
    }
    return { type: 'matrix', series: [{ labels: {}, points }] };
  }
  if (root.type !== 'vector') throw new Error(`a range query's expression evaluates to a ${root.type}`);
  for (let batch = await root.next(); batch !== null; batch = await root.next()) {
    for (const step of batch) {
      budget.charge(step.length);
      for (let k = 0; k < step.length; k++) {
        const id = step.ids[k]!;
        (series[id] ??= { labels: root.series.labels[id]!, points: [] }).points.push({ t: step.t, v: step.values[k]! });
      }
    }
    await yieldPoint();
  }
  return { type: 'matrix', series: series.filter((s) => s !== undefined) };
}

/** The root's value at the single step of an instant query. */
export async function collectInstant(root: Operator, t: number): Promise<Answer> {
  switch (root.type) {
    case 'string': return { type: 'string', t, value: root.value };
    case 'scalar': return { type: 'scalar', t, value: (await root.next())![0]! };
    case 'vector': {
      const step = (await root.next())![0]!;
      const samples = Array.from({ length: step.length }, (_, k) => ({ labels: root.series.labels[step.ids[k]!]!, value: step.values[k]! }));
      return { type: 'vector', t, samples };
    }
    case 'matrix': {
      const step = (await root.next())![0]!;
      return { type: 'matrix', series: step.windows.map((w) => ({ labels: root.series.labels[w.id]!, points: [...w.points] })) };
    }
  }
}
