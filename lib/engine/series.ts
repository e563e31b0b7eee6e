// Building and indexing series: the answers of leaves and subqueries, collected step by step.
import { labelsKey } from './labels.ts';
import { EvaluationError, type Labels, type Point, type Sample, type Series } from './types.ts';

/** Collects the vectors of consecutive steps into series. */
export class SeriesCollector {
  private readonly series = new Map<string, { labels: Labels; points: Point[] }>();

  add(labels: Labels, t: number, v: number): void {
    const key = labelsKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) this.series.set(key, (entry = { labels, points: [] }));
    entry.points.push({ t, v });
  }

  matrix(): Series[] {
    return [...this.series.values()];
  }
}

/**
 * Samples by timestamp. Prometheus refuses a step with two series of the same labels, which happens
 * when shards' answers lose the shard label; partial aggregates (`unique` false) are combined later.
 */
export function indexByTime(series: readonly Series[], unique: boolean): Map<number, Sample[]> {
  const byTime = new Map<number, Sample[]>();
  for (const s of series) {
    for (const p of s.points) {
      let samples = byTime.get(p.t);
      if (samples === undefined) byTime.set(p.t, (samples = []));
      samples.push({ labels: s.labels, value: p.v });
    }
  }
  if (unique) for (const samples of byTime.values()) assertUnique(samples);
  return byTime;
}

export function assertUnique(samples: readonly Sample[]): readonly Sample[] {
  const seen = new Set<string>();
  for (const s of samples) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw new EvaluationError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
  return samples;
}
