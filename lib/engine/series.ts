// Building and indexing series: the answers of leaves and subqueries, collected step by step.
import type { FetchedSeries } from './fetch.ts';
import { labelsKey } from './labels.ts';
import { parseSampleValue } from './values.ts';
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
export function indexByTime(series: readonly FetchedSeries[], unique: boolean): Map<number, Sample[]> {
  const byTime = new Map<number, Sample[]>();
  for (const s of series) {
    for (const [seconds, text] of s.values) {
      const t = Math.round(seconds * 1000);
      let samples = byTime.get(t);
      if (samples === undefined) byTime.set(t, (samples = []));
      samples.push({ labels: s.labels, value: parseSampleValue(text) });
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
