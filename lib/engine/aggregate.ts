// PromQL aggregation operators with Prometheus 2.42's semantics (promql/engine.go `aggregation()` and
// promql/quantile.go `quantile()`), over float samples.
import { keepLabels, labelsKey, METRIC_NAME, removeLabels, setLabel } from './labels.ts';
import { formatGoFloat, formatValue, quoteGo } from './format.ts';
import { EvaluationError } from './types.ts';
import type { Labels, Sample, Vector } from './types.ts';

/** `sum(x)` is `{ without: false, labels: [] }`. */
export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

export type AggregateOp =
  | 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar'
  | 'topk' | 'bottomk' | 'quantile' | 'count_values';

// The float64 range that converts to an int64 without overflow (Prometheus's convertibleToInt64).
const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

// What Prometheus checks model.LabelName.IsValid() against.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Group {
  readonly labels: Labels;
  value: number;
  mean: number;
  count: number;
  /** topk/bottomk: a Go container/heap; quantile: every sample of the group. */
  readonly samples: Sample[];
}

/**
 * Aggregates `vector` like Prometheus 2.42. `param` is k for topk/bottomk, φ for quantile and the
 * label name for count_values. Groups come out in the order they are first seen (Prometheus keeps
 * that order too, though it is not part of PromQL's contract); topk/bottomk output each group's
 * samples sorted as Prometheus's heap-then-sort leaves them.
 */
export function aggregate(op: AggregateOp, vector: Vector, grouping: Grouping, param?: number | string): Vector {
  let k = 0;
  if (op === 'topk' || op === 'bottomk') {
    const f = Number(param);
    // NaN fails both comparisons, so topk(NaN, x) is an error too.
    if (!(f <= MAX_INT64 && f >= MIN_INT64)) throw new EvaluationError(`Scalar value ${formatGoFloat(f)} overflows int64`);
    k = Math.trunc(f); // Go's int64(f)
    if (k < 1) return [];
  }
  let names = grouping.labels;
  let valueLabel: string | undefined;
  if (op === 'count_values') {
    valueLabel = String(param);
    if (!LABEL_NAME.test(valueLabel)) throw new EvaluationError(`invalid label name ${quoteGo(valueLabel)}`);
    // by (...) also keeps the new label; without (...) keeps it anyway unless it is listed.
    if (!grouping.without) names = [...names, valueLabel];
  }
  const dropped = grouping.without ? [...names, METRIC_NAME] : [];

  const groups = new Map<string, Group>();
  for (const sample of vector) {
    const metric = valueLabel === undefined ? sample.labels : setLabel(sample.labels, valueLabel, formatValue(sample.value));
    // The group's labels are also its identity: by keeps the listed labels only (so `__name__` goes
    // unless listed), without drops the listed ones and always `__name__`.
    const labels = grouping.without ? removeLabels(metric, dropped) : keepLabels(metric, names);
    const key = labelsKey(labels);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, newGroup(op, labels, sample));
    } else {
      accumulate(op, group, sample, k);
    }
  }

  const out: Sample[] = [];
  for (const group of groups.values()) {
    if (op === 'topk' || op === 'bottomk') {
      out.push(...sortedHeap(op, group.samples));
    } else {
      out.push({ labels: group.labels, value: finalValue(op, group, Number(param)) });
    }
  }
  return out;
}

function newGroup(op: AggregateOp, labels: Labels, sample: Sample): Group {
  const group: Group = { labels, value: sample.value, mean: sample.value, count: 1, samples: [] };
  if (op === 'stddev' || op === 'stdvar') group.value = 0; // the running sum of squared deviations
  if (op === 'group') group.value = 1;
  if (op === 'topk' || op === 'bottomk' || op === 'quantile') group.samples.push(sample);
  return group;
}

function accumulate(op: AggregateOp, group: Group, sample: Sample, k: number): void {
  const v = sample.value;
  switch (op) {
    case 'sum':
      group.value += v; // plain addition in input order, no compensation
      return;
    case 'avg':
      group.count++;
      // An infinite mean stays as it is when adding the same infinity or any finite value: the
      // incremental formula below would compute Inf - Inf = NaN.
      if (isInfinite(group.mean) && ((isInfinite(v) && (group.mean > 0) === (v > 0)) || Number.isFinite(v))) return;
      // Each term divided separately to avoid overflowing float64 with large values.
      group.mean += v / group.count - group.mean / group.count;
      return;
    case 'group':
      return;
    case 'max':
      // A NaN is replaced by any later value; a later NaN never wins.
      if (group.value < v || Number.isNaN(group.value)) group.value = v;
      return;
    case 'min':
      if (group.value > v || Number.isNaN(group.value)) group.value = v;
      return;
    case 'count':
    case 'count_values':
      group.count++;
      return;
    case 'stddev':
    case 'stdvar': {
      // Welford's online algorithm.
      group.count++;
      const delta = v - group.mean;
      group.mean += delta / group.count;
      group.value += delta * (v - group.mean);
      return;
    }
    case 'topk':
    case 'bottomk':
      offerToHeap(op, group.samples, sample, k);
      return;
    case 'quantile':
      group.samples.push(sample);
      return;
  }
}

function finalValue(op: AggregateOp, group: Group, phi: number): number {
  switch (op) {
    case 'avg':
      return group.mean;
    case 'count':
    case 'count_values':
      return group.count;
    case 'stdvar':
      return group.value / group.count;
    case 'stddev':
      return Math.sqrt(group.value / group.count);
    case 'quantile':
      return quantile(phi, group.samples);
    default:
      return group.value;
  }
}

const isInfinite = (v: number) => v === Infinity || v === -Infinity;

// --- topk / bottomk ----------------------------------------------------------------------------------
// Prometheus keeps the k best samples of a group in a Go container/heap whose top is the worst kept
// sample, then sorts the heap. Which samples survive among equal values or NaNs, and their order in
// the output, depend on the exact heap and sort algorithms, so both are reproduced here.

/** vectorByValueHeap.Less: NaN counts as the smallest value (so it is evicted first by topk). */
const lessByValue = (a: Sample, b: Sample) => Number.isNaN(a.value) || a.value < b.value;
/** vectorByReverseValueHeap.Less: NaN counts as the largest value (evicted first by bottomk). */
const lessByReverseValue = (a: Sample, b: Sample) => Number.isNaN(a.value) || a.value > b.value;

function offerToHeap(op: 'topk' | 'bottomk', heap: Sample[], sample: Sample, k: number): void {
  const top = heap[0]!;
  const better = op === 'topk' ? top.value < sample.value : top.value > sample.value;
  if (heap.length < k || better || Number.isNaN(top.value)) {
    const less = op === 'topk' ? lessByValue : lessByReverseValue;
    if (heap.length === k) {
      if (k === 1) {
        heap[0] = sample; // replaced in place, without re-heaping
        return;
      }
      heapPop(heap, less);
    }
    heapPush(heap, sample, less);
  }
}

/** The heap sorted by sort.Sort(sort.Reverse(heap)): best first, NaNs last. */
function sortedHeap(op: 'topk' | 'bottomk', heap: Sample[]): Sample[] {
  const less = op === 'topk' ? lessByValue : lessByReverseValue;
  if (heap.length > 1) goSort(heap, (a, b) => less(b, a));
  return heap;
}

function heapPush<T>(h: T[], x: T, less: (a: T, b: T) => boolean): void {
  h.push(x);
  let j = h.length - 1;
  for (;;) {
    const i = Math.trunc((j - 1) / 2); // Go's integer division: (0-1)/2 == 0 stops at the root
    if (i === j || !less(h[j]!, h[i]!)) break;
    swap(h, i, j);
    j = i;
  }
}

function heapPop<T>(h: T[], less: (a: T, b: T) => boolean): T {
  const n = h.length - 1;
  swap(h, 0, n);
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    let j = left;
    if (left + 1 < n && less(h[left + 1]!, h[left]!)) j = left + 1;
    if (!less(h[j]!, h[i]!)) break;
    swap(h, i, j);
    i = j;
  }
  return h.pop()!;
}

// --- quantile ----------------------------------------------------------------------------------------

/**
 * promql/quantile.go `quantile()`: linear interpolation between the closest ranks of the sorted
 * values. φ < 0 → -Inf, φ > 1 → +Inf, NaN φ → NaN. NaN samples sort as the smallest values.
 */
function quantile(phi: number, samples: Sample[]): number {
  if (samples.length === 0 || Number.isNaN(phi)) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  goSort(samples, lessByValue);
  const n = samples.length;
  const rank = phi * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return samples[lower]!.value * (1 - weight) + samples[upper]!.value * weight;
}

// --- Go's sort.Sort ----------------------------------------------------------------------------------
// Go 1.19's pattern-defeating quicksort (Prometheus 2.42 is built with Go 1.19), reimplemented so that
// equal values and NaNs (for which the Less above is not a strict weak order) end up exactly where
// Prometheus puts them.

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function goSort<T>(data: T[], lessValues: (a: T, b: T) => boolean): void {
  const n = data.length;
  if (n <= 1) return;
  const less = (i: number, j: number) => lessValues(data[i]!, data[j]!);
  const sw = (i: number, j: number) => swap(data, i, j);
  pdqsort({ less, swap: sw }, 0, n, 32 - Math.clz32(n));
}

interface Sortable {
  less(i: number, j: number): boolean;
  swap(i: number, j: number): void;
}

type Hint = 'unknown' | 'increasing' | 'decreasing';

function pdqsort(d: Sortable, a: number, b: number, limit: number): void {
  const maxInsertion = 12;
  let wasBalanced = true;
  let wasPartitioned = true;
  for (;;) {
    const length = b - a;
    if (length <= maxInsertion) {
      insertionSort(d, a, b);
      return;
    }
    if (limit === 0) {
      heapSort(d, a, b);
      return;
    }
    if (!wasBalanced) {
      breakPatterns(d, a, b);
      limit--;
    }
    let [pivot, hint] = choosePivot(d, a, b);
    if (hint === 'decreasing') {
      reverseRange(d, a, b);
      pivot = b - 1 - (pivot - a);
      hint = 'increasing';
    }
    if (wasBalanced && wasPartitioned && hint === 'increasing' && partialInsertionSort(d, a, b)) return;
    if (a > 0 && !d.less(a - 1, pivot)) {
      a = partitionEqual(d, a, b, pivot);
      continue;
    }
    const [mid, alreadyPartitioned] = partition(d, a, b, pivot);
    wasPartitioned = alreadyPartitioned;
    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.trunc(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

function insertionSort(d: Sortable, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && d.less(j, j - 1); j--) d.swap(j, j - 1);
  }
}

function siftDown(d: Sortable, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) return;
    if (child + 1 < hi && d.less(first + child, first + child + 1)) child++;
    if (!d.less(first + root, first + child)) return;
    d.swap(first + root, first + child);
    root = child;
  }
}

function heapSort(d: Sortable, a: number, b: number): void {
  const hi = b - a;
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(d, i, hi, a);
  for (let i = hi - 1; i >= 0; i--) {
    d.swap(a, a + i);
    siftDown(d, 0, i, a);
  }
}

function partition(d: Sortable, a: number, b: number, pivot: number): [number, boolean] {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  while (i <= j && d.less(i, a)) i++;
  while (i <= j && !d.less(j, a)) j--;
  if (i > j) {
    d.swap(j, a);
    return [j, true];
  }
  d.swap(i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && d.less(i, a)) i++;
    while (i <= j && !d.less(j, a)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  d.swap(j, a);
  return [j, false];
}

function partitionEqual(d: Sortable, a: number, b: number, pivot: number): number {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !d.less(a, i)) i++;
    while (i <= j && d.less(a, j)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  return i;
}

function partialInsertionSort(d: Sortable, a: number, b: number): boolean {
  const maxSteps = 5;
  const shortestShifting = 50;
  let i = a + 1;
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !d.less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < shortestShifting) return false;
    d.swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
  }
  return false;
}

function breakPatterns(d: Sortable, a: number, b: number): void {
  const length = b - a;
  if (length < 8) return;
  // Go 1.19's xorshift (shifts 13, 17, 5) over a uint64 seeded with the length.
  const mask = (1n << 64n) - 1n;
  let r = BigInt(length);
  const next = () => {
    r ^= (r << 13n) & mask;
    r ^= r >> 17n;
    r ^= (r << 5n) & mask;
    return r;
  };
  const modulus = 2 ** (32 - Math.clz32(length));
  const start = a + Math.trunc(length / 4) * 2 - 1;
  for (let idx = start; idx <= start + 2; idx++) {
    let other = Number(next() & BigInt(modulus - 1));
    if (other >= length) other -= length;
    d.swap(idx, a + other);
  }
}

function choosePivot(d: Sortable, a: number, b: number): [number, Hint] {
  const shortestNinther = 50;
  const maxSwaps = 4 * 3;
  const l = b - a;
  const swaps = { n: 0 };
  const q = Math.trunc(l / 4);
  let i = a + q;
  let j = a + q * 2;
  let k = a + q * 3;
  if (l >= 8) {
    if (l >= shortestNinther) {
      i = median(d, i - 1, i, i + 1, swaps);
      j = median(d, j - 1, j, j + 1, swaps);
      k = median(d, k - 1, k, k + 1, swaps);
    }
    j = median(d, i, j, k, swaps);
  }
  if (swaps.n === 0) return [j, 'increasing'];
  if (swaps.n === maxSwaps) return [j, 'decreasing'];
  return [j, 'unknown'];
}

function median(d: Sortable, a: number, b: number, c: number, swaps: { n: number }): number {
  const order2 = (x: number, y: number): [number, number] => {
    if (d.less(y, x)) {
      swaps.n++;
      return [y, x];
    }
    return [x, y];
  };
  [a, b] = order2(a, b);
  [b, c] = order2(b, c);
  [a, b] = order2(a, b);
  return b;
}

function reverseRange(d: Sortable, a: number, b: number): void {
  for (let i = a, j = b - 1; i < j; i++, j--) d.swap(i, j);
}
