// Unions of shards' answers: Prometheus refuses two series of the same labels at one step.
import type { FetchedSeries } from './fetch.ts';
import { labelsKey } from './labels.ts';
import { EvaluationError } from './types.ts';

/**
 * Series that several shards answer with the same labels (possible only where the shard label is
 * lost) are Prometheus's "same labelset" error when they have a sample at the same time.
 */
export function assertDistinctSeries(series: readonly FetchedSeries[]): void {
  const byLabels = new Map<string, FetchedSeries>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    const other = byLabels.get(key);
    if (other === undefined) {
      byLabels.set(key, s);
      continue;
    }
    const times = new Set(other.values.map(([t]) => t));
    if (s.values.some(([t]) => times.has(t))) throw new EvaluationError('vector cannot contain metrics with the same labelset');
  }
}
