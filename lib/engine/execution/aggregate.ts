// PromQL aggregation operators over step batches, with Prometheus 2.42's semantics (promql/engine.go
// `aggregation()`), and 3.x's limitk and limit_ratio (`aggregationK`): each input series' group is
// computed once; per step, groups come out in the order their first sample is met, as Prometheus
// leaves them.
import type { AggregateOp, Grouping } from '../expr.ts';
import { formatValue } from '../format.ts';
import { quantile } from '../kernels/quantile.ts';
import { formatFloat, quoteGo } from '../go/format.ts';
import { heapPop, heapPush } from '../go/heap.ts';
import { fitsInt64 } from '../go/math.ts';
import { goSort } from '../go/sort.ts';
import { infiniteMeanStays, kahanMean, kahanSumInc } from '../kernels/range.ts';
import { inRatio, loadRatioSampler, sampleOffset } from '../kernels/ratio.ts';
import type { Major } from '../../promql/function-table.ts';
import { keepLabels, METRIC_NAME, removeLabels, setLabel } from '../labels.ts';
import { compareLabelSets } from '../../labelsets.ts';
import type { Labels } from '../types.ts';
import { EvaluationError } from '../../errors.ts';
import type { ScalarOperator, VectorOperator } from './operator.ts';
import { IdMap, SeriesTable, StepMarks } from './series-table.ts';
import { StepVector } from './step-vector.ts';

// What Prometheus checks model.LabelName.IsValid() against.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample kept by topk/bottomk/limitk/limit_ratio: its input series and value. */
interface Kept { readonly id: number; readonly value: number }

/** The aggregations whose output is some of their input samples, unchanged. */
const SELECTING: ReadonlySet<AggregateOp> = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

export class AggregateOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly groupOf = new IdMap();
  /** count_values: the group of an input series and a value, by `${id} ${value}`. */
  private readonly valueGroups = new Map<string, number>();
  private readonly marks = new StepMarks();
  private readonly order: number[] = [];
  // Per group, the running state of the current step.
  private readonly value: number[] = [];
  private readonly mean: number[] = [];
  private readonly count: number[] = [];
  /** 3.x's sum: the Kahan compensation of each group's sum. */
  private readonly compensation: number[] = [];
  private readonly samples: (Kept[] | number[])[] = [];

  constructor(
    private readonly op: AggregateOp,
    private readonly input: VectorOperator,
    private readonly grouping: Grouping,
    /** k for topk/bottomk, φ for quantile. */
    private readonly param: ScalarOperator | null,
    /** The label name of count_values. */
    private readonly valueLabel: string | null,
    /** 3.x sums with Kahan compensation and averages as avg_over_time; its stddev of NaN or ±Inf is NaN. */
    private readonly major: Major = 2,
  ) {
    // topk/bottomk/limitk/limit_ratio keep the input series themselves.
    this.series = SELECTING.has(op) ? input.series : new SeriesTable();
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    const params = this.param === null ? null : await this.param.next();
    if (batch === null) return null;
    if (this.op === 'limit_ratio') await loadRatioSampler();
    return batch.map((step, i) => (this.op === 'limitk' || this.op === 'limit_ratio' ? this.limitStep(step, params?.[i] ?? NaN) : this.step(step, params?.[i] ?? NaN)));
  }

  // --- limitk / limit_ratio (Prometheus 3.x) ---------------------------------------------------------

  /** Per input series, its place in label order (Prometheus meets a selector's series in that order). */
  private rank = new Int32Array(0);
  private readonly offsets: number[] = [];

  /**
   * limitk keeps the first k samples of each group in Prometheus's input order, limit_ratio those whose
   * label hash falls in the ratio; each group's kept samples come out in the order of Go's heap after
   * the pushes (vectorByValueHeap), as 3.x leaves them. The shards' series arrive shard by shard: they
   * are met in label order here, the order of a global Prometheus's storage.
   */
  private limitStep(step: StepVector, param: number): StepVector {
    const { op } = this;
    let k = 0;
    let ratio = 0;
    if (op === 'limitk') {
      k = checkedK(param, 3);
      if (k < 1) return new StepVector(step.t);
    } else {
      if (Number.isNaN(param)) throw new EvaluationError('Ratio value is NaN');
      if (param === 0) return new StepVector(step.t);
      ratio = Math.max(-1, Math.min(1, param));
    }
    const order = this.inLabelOrder(step);
    const heaps = new Map<number, Kept[]>();
    for (const s of order) {
      const id = step.ids[s]!;
      const sample = { id, value: step.values[s]! };
      const g = this.group(id);
      let heap = heaps.get(g);
      if (heap === undefined) heaps.set(g, (heap = []));
      const keep = op === 'limitk' ? heap.length < k : inRatio(ratio, this.offset(id));
      if (keep) heapPush(heap, sample, lessByValue);
    }
    const out = new StepVector(step.t);
    for (const heap of heaps.values()) for (const kept of heap) out.push(kept.id, kept.value);
    return out;
  }

  /** The step's sample indexes with their series in label order. */
  private inLabelOrder(step: StepVector): number[] {
    const { series } = this.input;
    if (this.rank.length < series.size) {
      const ids = Array.from({ length: series.size }, (_, id) => id);
      ids.sort((a, b) => compareLabelSets(series.labels[a]!, series.labels[b]!));
      this.rank = new Int32Array(series.size);
      ids.forEach((id, place) => (this.rank[id] = place));
    }
    const order = Array.from({ length: step.length }, (_, s) => s);
    return order.sort((a, b) => this.rank[step.ids[a]!]! - this.rank[step.ids[b]!]!);
  }

  private offset(id: number): number {
    return (this.offsets[id] ??= sampleOffset(this.input.series.labels[id]!));
  }

  private step(step: StepVector, param: number): StepVector {
    const { op } = this;
    let k = 0;
    if (op === 'topk' || op === 'bottomk') {
      k = checkedK(param, this.major);
      if (k < 1) return new StepVector(step.t);
    }
    if (op === 'count_values' && !LABEL_NAME.test(this.valueLabel!)) {
      throw new EvaluationError(`invalid label name ${quoteGo(this.valueLabel!)}`);
    }
    const { marks, order, value, mean, count, samples, compensation, major } = this;
    marks.next();
    order.length = 0;
    for (let s = 0; s < step.length; s++) {
      const id = step.ids[s]!;
      const v = step.values[s]!;
      const g = op === 'count_values' ? this.valueGroup(id, v) : this.group(id);
      if (!marks.mark(g)) {
        order.push(g);
        value[g] = op === 'stddev' || op === 'stdvar' ? (major === 3 && !Number.isFinite(v) ? NaN : 0) : op === 'group' ? 1 : v;
        mean[g] = v;
        count[g] = 1;
        compensation[g] = 0;
        if (op === 'topk' || op === 'bottomk') samples[g] = [{ id, value: v }];
        else if (op === 'quantile' || (op === 'avg' && major === 3)) samples[g] = [v];
        continue;
      }
      switch (op) {
        case 'sum':
          // 2.x: plain addition in input order, no compensation; 3.x: Kahan-Neumaier.
          if (major === 2) value[g] = value[g]! + v;
          else [value[g], compensation[g]] = kahanSumInc(v, value[g]!, compensation[g]!, 3);
          break;
        case 'avg': {
          if (major === 3) {
            (samples[g] as number[]).push(v);
            break;
          }
          const n = ++count[g]!;
          const m = mean[g]!;
          if (infiniteMeanStays(m, v)) break;
          // Each term divided separately to avoid overflowing float64 with large values.
          mean[g] = m + (v / n - m / n);
          break;
        }
        case 'max':
          // A NaN is replaced by any later value; a later NaN never wins.
          if (value[g]! < v || Number.isNaN(value[g])) value[g] = v;
          break;
        case 'min':
          if (value[g]! > v || Number.isNaN(value[g])) value[g] = v;
          break;
        case 'count': case 'count_values':
          count[g]!++;
          break;
        case 'stddev': case 'stdvar': {
          // Welford's online algorithm.
          const n = ++count[g]!;
          const delta = v - mean[g]!;
          mean[g] = mean[g]! + delta / n;
          value[g] = value[g]! + delta * (v - mean[g]!);
          break;
        }
        case 'topk': case 'bottomk':
          offerToHeap(op, samples[g] as Kept[], { id, value: v }, k);
          break;
        case 'quantile':
          (samples[g] as number[]).push(v);
          break;
        case 'group':
          break;
      }
    }
    const out = new StepVector(step.t);
    for (const g of order) {
      if (op === 'topk' || op === 'bottomk') {
        for (const kept of sortedHeap(op, samples[g] as Kept[])) out.push(kept.id, kept.value);
      } else {
        out.push(g, this.final(g, param));
      }
    }
    return out;
  }

  private final(g: number, phi: number): number {
    switch (this.op) {
      case 'avg': return this.major === 2 ? this.mean[g]! : kahanMean(this.samples[g] as number[]);
      // 3.x adds the compensation in (so a sum of -0 comes out +0, as in Go).
      case 'sum': return this.major === 2 ? this.value[g]! : this.value[g]! + this.compensation[g]!;
      case 'count': case 'count_values': return this.count[g]!;
      case 'stdvar': return this.value[g]! / this.count[g]!;
      case 'stddev': return Math.sqrt(this.value[g]! / this.count[g]!);
      // 2.42 runs the same quantile() as quantile_over_time, over the group's values in input order.
      case 'quantile': return quantile(phi, this.samples[g] as number[]);
      default: return this.value[g]!;
    }
  }

  /** topk/bottomk: the input series is its own group's member; its group is the grouping labels. */
  private group(id: number): number {
    let g = this.groupOf.get(id);
    if (g < 0) {
      const labels = this.groupLabels(this.input.series.labels[id]!);
      // The selecting aggregations number groups apart from their (input) output series.
      g = SELECTING.has(this.op) ? this.internGroup(labels) : this.series.intern(labels);
      this.groupOf.set(id, g);
    }
    return g;
  }

  private readonly heapGroups = new Map<string, number>();

  private internGroup(labels: Labels): number {
    const key = JSON.stringify(labels);
    let g = this.heapGroups.get(key);
    if (g === undefined) this.heapGroups.set(key, (g = this.heapGroups.size));
    return g;
  }

  private valueGroup(id: number, v: number): number {
    const text = formatValue(v);
    const key = `${id} ${text}`;
    let g = this.valueGroups.get(key);
    if (g === undefined) {
      const metric = setLabel(this.input.series.labels[id]!, this.valueLabel!, text);
      this.valueGroups.set(key, (g = this.series.intern(this.groupLabels(metric))));
    }
    return g;
  }

  /**
   * The group's labels are also its identity: by keeps the listed labels only (so `__name__` goes
   * unless listed), without drops the listed ones and always `__name__`. count_values' label counts as
   * listed in by (...).
   */
  private groupLabels(metric: Labels): Labels {
    const { without, labels } = this.grouping;
    if (without) return removeLabels(metric, [...labels, METRIC_NAME]);
    return keepLabels(metric, this.valueLabel === null ? labels : [...labels, this.valueLabel]);
  }
}

/** k of topk/bottomk/limitk as Go's int64(f), refused as the major refuses it. */
function checkedK(param: number, major: Major): number {
  if (major === 2) {
    // NaN does not fit either, so topk(NaN, x) is an error too. The message formats f with %v.
    if (!fitsInt64(param)) throw new EvaluationError(`Scalar value ${formatFloat(param, 'g')} overflows int64`);
  } else {
    if (Number.isNaN(param)) throw new EvaluationError('Parameter value is NaN');
    // 3.x compares with float64(MinInt64) and float64(MaxInt64) = 2^63, both ends refused.
    if (param <= -(2 ** 63)) throw new EvaluationError(`Scalar value ${formatFloat(param, 'g')} underflows int64`);
    if (param >= 2 ** 63) throw new EvaluationError(`Scalar value ${formatFloat(param, 'g')} overflows int64`);
  }
  return Math.trunc(param);
}

// --- topk / bottomk ----------------------------------------------------------------------------------
// Prometheus keeps the k best samples of a group in a Go container/heap whose top is the worst kept
// sample, then sorts the heap. Which samples survive among equal values or NaNs, and their order in
// the output, depend on the exact heap and sort algorithms: Go's own, from go/heap.ts and go/sort.ts.

/** vectorByValueHeap.Less: NaN counts as the smallest value (so it is evicted first by topk). */
const lessByValue = (a: Kept, b: Kept) => Number.isNaN(a.value) || a.value < b.value;
/** vectorByReverseValueHeap.Less: NaN counts as the largest value (evicted first by bottomk). */
const lessByReverseValue = (a: Kept, b: Kept) => Number.isNaN(a.value) || a.value > b.value;

function offerToHeap(op: 'topk' | 'bottomk', heap: Kept[], sample: Kept, k: number): void {
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
function sortedHeap(op: 'topk' | 'bottomk', heap: Kept[]): Kept[] {
  const less = op === 'topk' ? lessByValue : lessByReverseValue;
  if (heap.length > 1) goSort(heap, (a, b) => less(b, a));
  return heap;
}
