// histogram_quantile over classic histograms (series with an `le` label), as Prometheus 2.42 does it.

import { dropMetricName, labelsKey, removeLabels } from '../labels.ts';
import { parseGoFloat } from '../../promql/literals.ts';
import type { Labels, Sample, Vector } from '../types.ts';
import { bucketQuantile } from './quantile.ts';
import type { Bucket } from './quantile.ts';

const BUCKET_LABEL = 'le';

/**
 * `histogram_quantile(q, v)`: groups the samples by all labels but `le` (the metric name included, so
 * that two histograms differing only in name are not merged; both lose the name in the result, which
 * then fails as a duplicate label set), skipping samples whose `le` does not parse as a Go float.
 *
 * Prometheus iterates a Go map for the output, so its order is random; this returns first-seen order.
 */
export function histogramQuantile(q: number, vector: Vector): Vector {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const sample of vector) {
    const upperBound = parseGoFloat(sample.labels[BUCKET_LABEL] ?? '');
    if (upperBound === undefined) continue;
    const key = labelsKey(removeLabels(sample.labels, [BUCKET_LABEL]));
    let group = groups.get(key);
    if (!group) {
      group = { labels: dropMetricName(removeLabels(sample.labels, [BUCKET_LABEL])), buckets: [] };
      groups.set(key, group);
    }
    group.buckets.push({ upperBound, count: sample.value });
  }
  return [...groups.values()].map((g): Sample => ({ labels: g.labels, value: bucketQuantile(q, g.buckets) }));
}
