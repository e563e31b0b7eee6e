// PromQL aggregation operators with Prometheus 2.42's semantics (promql/engine.go `aggregation()` and
// promql/quantile.go `quantile()`), over float samples.
import { keepLabels, labelsKey, METRIC_NAME, removeLabels, setLabel } from './labels.ts';
import { formatValue } from './format.ts';
import { quantile } from './functions/quantile.ts';
import { formatFloat, quoteGo } from './go/format.ts';
import { heapPop, heapPush } from './go/heap.ts';
import { fitsInt64 } from './go/math.ts';
import { goSort } from './go/sort.ts';
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
    // NaN does not fit either, so topk(NaN, x) is an error too. The message formats f with %v.
    if (!fitsInt64(f)) throw new EvaluationError(`Scalar value ${formatFloat(f, 'g')} overflows int64`);
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
      // One at a time: a spread of a large group's samples into push() would overflow the stack.
      for (const sample of sortedHeap(op, group.samples)) out.push(sample);
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
      // 2.42 runs the same quantile() as quantile_over_time, over the group's values in input order.
      return quantile(phi, group.samples.map((sample) => sample.value));
    default:
      return group.value;
  }
}

const isInfinite = (v: number) => v === Infinity || v === -Infinity;

// --- topk / bottomk ----------------------------------------------------------------------------------
// Prometheus keeps the k best samples of a group in a Go container/heap whose top is the worst kept
// sample, then sorts the heap. Which samples survive among equal values or NaNs, and their order in
// the output, depend on the exact heap and sort algorithms: Go's own, from go/heap.ts and go/sort.ts.

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
