// φ-quantiles of plain values (quantile_over_time and the `quantile` aggregation: Prometheus 2.42 runs
// the same quantile() for both) and of classic histogram buckets (histogram_quantile), after
// promql/quantile.go.

import { goSearch, goSort } from '../go/sort.ts';

/**
 * Prometheus's `quantile(q, values)`: NaN for no values or NaN q, -Inf for q < 0, +Inf for q > 1,
 * otherwise linear interpolation between the closest ranks. The values are sorted with Prometheus's
 * comparator, which calls NaN less than anything (even another NaN); with Go's sort that puts NaNs
 * first only as far as the algorithm happens to, which is why the sort is Go's own (see go/sort.ts).
 */
export function quantile(q: number, values: readonly number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values];
  goSort(sorted, (a, b) => Number.isNaN(a) || a < b);
  const n = sorted.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lowerIndex]! * (1 - weight) + sorted[upperIndex]! * weight;
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/**
 * Prometheus 2.42's `bucketQuantile` for one classic histogram (buckets in any order): NaN for NaN q,
 * ±Inf for q outside [0, 1]; NaN unless the highest bound is +Inf, and NaN with fewer than two distinct
 * bounds or zero observations. Equal bounds are merged, counts are forced monotonic, and the quantile is
 * interpolated linearly inside its bucket (from 0 for the first bucket, unless its bound is ≤ 0, which
 * is then returned as is; the +Inf bucket answers with the highest finite bound).
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = input.map((b) => ({ ...b }));
  goSort(sorted, (a, b) => a.upperBound < b.upperBound);
  if (sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;

  const buckets = coalesceBuckets(sorted);
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;

  let rank = q * observations;
  // A binary search, so with NaN counts the bucket found depends on the search steps: Go's own.
  const b = goSearch(buckets.length - 1, (i) => buckets[i]!.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;

  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** Merges adjacent buckets with the same bound (e.g. `le="1"` and `le="1.0"`), adding their counts. */
function coalesceBuckets(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  let last = buckets[0]!;
  for (const b of buckets.slice(1)) {
    if (b.upperBound === last.upperBound) last.count += b.count;
    else {
      out.push(last);
      last = b;
    }
  }
  out.push(last);
  return out;
}

/**
 * Raises every count to the running maximum (counts of a scrape can be inconsistent when buckets are
 * scraped at slightly different moments). A NaN count compares false both ways and stays NaN.
 */
function ensureMonotonic(buckets: Bucket[]): void {
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
}
