// PromQL functions over step batches, with Prometheus 2.42's semantics: the metric name and any other
// label change is worked out once per series; the value kernels run per sample.
import { goLog, goLog10, goLog2, goMax, goMin } from '../go/math.ts';
import { goSort } from '../go/sort.ts';
import { GoTime } from '../kernels/date.ts';
import { parseGoFloat } from '../../promql/literals.ts';
import { labelJoiner, labelReplacer } from '../kernels/label-replace.ts';
import { RANGE_FUNCTIONS } from '../kernels/range.ts';
import { bucketQuantile, type Bucket } from '../kernels/quantile.ts';
import { naturalLess } from '../go/natsort.ts';
import { dropMetricName, removeLabels } from '../labels.ts';
import { compareLabelSets } from '../../labelsets.ts';
import type { Labels } from '../types.ts';
import { EvaluationError } from '../../errors.ts';
import { Relabel } from './binary.ts';
import type { ExecutionContext, Operator, ScalarOperator, VectorOperator } from './operator.ts';
import { StepCursor } from './operator.ts';
import { IdMap, SeriesTable } from './series-table.ts';
import { StepVector } from './step-vector.ts';

/** A value kernel: the sample's value, the step's scalar arguments and time; NaN-free undefined drops it. */
type Kernel = (v: number, args: Float64Array, t: number) => number;

const math = (f: (v: number) => number): Kernel => (v) => f(v);

/** Functions that map each sample's value and drop the metric name. */
const KERNELS: Readonly<Record<string, Kernel>> = {
  abs: math(Math.abs),
  ceil: math(Math.ceil),
  floor: math(Math.floor),
  exp: math(Math.exp),
  sqrt: math(Math.sqrt),
  ln: math(goLog),
  log2: math(goLog2),
  log10: math(goLog10),
  // NaN and ±0 are returned as they are.
  sgn: math((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  acos: math(Math.acos),
  acosh: math(Math.acosh),
  asin: math(Math.asin),
  asinh: math(Math.asinh),
  atan: math(Math.atan),
  atanh: math(Math.atanh),
  cos: math(Math.cos),
  cosh: math(Math.cosh),
  sin: math(Math.sin),
  sinh: math(Math.sinh),
  tan: math(Math.tan),
  tanh: math(Math.tanh),
  // Same operation order as Go's v*180/math.Pi and v*math.Pi/180.
  deg: math((v) => (v * 180) / Math.PI),
  rad: math((v) => (v * Math.PI) / 180),
  // Prometheus multiplies by the inverse ("fewer floating point accuracy issues"); ties round up.
  round: (v, args) => {
    const inverse = 1 / (args.length > 0 ? args[0]! : 1);
    return Math.floor(v * inverse + 0.5) / inverse;
  },
  clamp: (v, args) => goMax(args[0]!, goMin(args[1]!, v)),
  clamp_min: (v, args) => goMax(args[0]!, v),
  clamp_max: (v, args) => goMin(args[0]!, v),
  // Prometheus gives the sample's own timestamp. Only a plain vector selector keeps its samples' scrape
  // times, and the compiler pushes timestamp(<selector>) down to the servers; every computed sample is
  // stamped with the evaluation time.
  timestamp: (_v, _args, t) => t / 1000,
};

/** The date functions: of each sample's value read as Unix seconds, or of the evaluation time. */
const DATE_FIELDS: Readonly<Record<string, (t: GoTime) => number>> = {
  day_of_month: (t) => t.dayOfMonth(),
  day_of_week: (t) => t.dayOfWeek(),
  day_of_year: (t) => t.dayOfYear(),
  days_in_month: (t) => t.daysInMonth(),
  hour: (t) => t.hour(),
  minute: (t) => t.minute(),
  month: (t) => t.month(),
  year: (t) => t.year(),
};

const NATIVE_HISTOGRAMS_ONLY = new Set(['histogram_count', 'histogram_sum', 'histogram_fraction']);

/** The functions instantFunction builds operators of itself, beside the kernels and the date functions. */
const OWN_OPERATORS = new Set([
  'vector', 'scalar', 'time', 'pi', 'sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc', 'label_replace', 'label_join', 'histogram_quantile',
]);

/**
 * Whether the router's engine evaluates a function: the instant ones here, the range ones in
 * kernels/range.ts, absent() and absent_over_time() through the plan (they need the selector's labels).
 */
export function evaluatesFunction(name: string): boolean {
  return name in KERNELS || name in DATE_FIELDS || OWN_OPERATORS.has(name) || name in RANGE_FUNCTIONS || name === 'absent' || name === 'absent_over_time';
}

/**
 * The operator for an instant-vector or scalar function call, from its evaluated arguments. Throws
 * EvaluationError where Prometheus fails the query, including "vector cannot contain metrics with the
 * same labelset", which Prometheus checks after every function call (label_replace onto an existing
 * label set, abs() of two series differing only in name, ...).
 */
export function instantFunction(name: string, args: readonly Operator[], times: readonly number[], ctx: ExecutionContext): Operator {
  const vectorArg = (i: number) => expectType(name, args, i, 'vector') as VectorOperator;
  const scalarArg = (i: number) => expectType(name, args, i, 'scalar') as ScalarOperator;
  const stringArg = (i: number) => (expectType(name, args, i, 'string') as { value: string }).value;
  const cursor = () => new StepCursor(times, ctx.batchSteps);
  const field = DATE_FIELDS[name];
  const kernel = KERNELS[name] ?? (field === undefined ? undefined : (v: number) => field(GoTime.fromValue(v)));
  if (field !== undefined && args.length === 0) {
    // No argument: the evaluation time (whole seconds, truncated), as a sample without labels.
    return new StepFunctionVector(cursor(), (t) => field(GoTime.fromMillis(t)));
  }
  if (kernel !== undefined) {
    const scalars = args.slice(1).map((_, i) => scalarArg(i + 1));
    // An empty result, not an error, when clamp's bounds are crossed (NaN bounds are not "crossed").
    const skip = name === 'clamp' ? (a: Float64Array) => a[1]! < a[0]! : null;
    return new MapOperator(vectorArg(0), new Relabel(vectorArg(0).series, dropMetricName), kernel, scalars, skip);
  }
  switch (name) {
    case 'vector': return new VectorOfScalar(cursor(), scalarArg(0));
    case 'scalar': return new ScalarOfVector(vectorArg(0));
    case 'time': return new StepFunctionScalar(cursor(), (t) => t / 1000);
    case 'pi': return new StepFunctionScalar(cursor(), () => Math.PI);
    case 'sort': return new SortOperator(vectorArg(0), false);
    case 'sort_desc': return new SortOperator(vectorArg(0), true);
    case 'sort_by_label': case 'sort_by_label_desc':
      return new SortByLabelOperator(vectorArg(0), args.slice(1).map((_, i) => stringArg(i + 1)), name === 'sort_by_label_desc');
    // Their argument checks fail the query when it is evaluated, not before.
    case 'label_replace':
      return new RelabelOperator(vectorArg(0), () => labelReplacer(stringArg(1), stringArg(2), stringArg(3), stringArg(4), ctx.times.major));
    case 'label_join':
      return new RelabelOperator(vectorArg(0), () => labelJoiner(stringArg(1), stringArg(2), args.slice(3).map((_, i) => stringArg(i + 3)), ctx.times.major));
    case 'histogram_quantile': return new HistogramQuantileOperator(scalarArg(0), vectorArg(1));
    default:
      if (NATIVE_HISTOGRAMS_ONLY.has(name)) throw new EvaluationError(`${name} is not supported by the router for native histograms`);
      throw new EvaluationError(`unknown function with name "${name}"`, 'bad_data');
  }
}

function expectType(name: string, args: readonly Operator[], i: number, type: Operator['type']): Operator {
  const arg = args[i];
  if (arg?.type !== type) throw new EvaluationError(`${name}(): argument ${i + 1} must be a ${type}`, 'bad_data');
  return arg;
}

/** Functions that map values one by one: the math and date functions, round, clamp, timestamp. */
class MapOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;

  constructor(
    private readonly input: VectorOperator,
    private readonly relabel: Relabel,
    private readonly kernel: Kernel,
    private readonly scalars: readonly ScalarOperator[],
    /** Steps whose arguments leave no output at all. */
    private readonly skip: ((args: Float64Array) => boolean) | null,
  ) {
    this.series = relabel.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    if (batch === null) return null;
    const columns = await Promise.all(this.scalars.map((s) => s.next()));
    const args = new Float64Array(this.scalars.length);
    return batch.map((step, i) => {
      for (let a = 0; a < args.length; a++) args[a] = columns[a]![i]!;
      const out = new StepVector(step.t);
      if (this.skip?.(args)) return out;
      this.relabel.startStep();
      for (let k = 0; k < step.length; k++) out.push(this.relabel.unique(step.ids[k]!), this.kernel(step.values[k]!, args, step.t));
      return out;
    });
  }
}

/** label_replace and label_join: new label sets worked out once per series, values unchanged. */
class RelabelOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly relabel: Relabel;
  private relabelOf: ((labels: Labels) => Labels) | undefined;

  constructor(private readonly input: VectorOperator, private readonly makeRelabel: () => (labels: Labels) => Labels) {
    this.relabel = new Relabel(input.series, (labels) => this.relabelOf!(labels));
    this.series = this.relabel.series;
  }

  async next(): Promise<StepVector[] | null> {
    this.relabelOf ??= this.makeRelabel();
    const batch = await this.input.next();
    if (batch === null) return null;
    return batch.map((step) => {
      const out = new StepVector(step.t);
      this.relabel.startStep();
      for (let k = 0; k < step.length; k++) out.push(this.relabel.unique(step.ids[k]!), step.values[k]!);
      return out;
    });
  }
}

/**
 * sort() and sort_desc(): Go's sort.Sort(sort.Reverse(...)) with Prometheus's comparators, which treat
 * NaN as smaller than everything in `vectorByValueHeap`/`vectorByReverseValueHeap`; reversed, NaNs end
 * up last in both (in an order only Go's algorithm determines).
 */
class SortOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;

  constructor(private readonly input: VectorOperator, private readonly descending: boolean) {
    this.series = input.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    if (batch === null) return null;
    return batch.map((step) => {
      const samples = Array.from({ length: step.length }, (_, k) => ({ id: step.ids[k]!, value: step.values[k]! }));
      if (this.descending) goSort(samples, (a, b) => Number.isNaN(b.value) || b.value < a.value);
      else goSort(samples, (a, b) => Number.isNaN(b.value) || b.value > a.value);
      const out = new StepVector(step.t);
      for (const s of samples) out.push(s.id, s.value);
      return out;
    });
  }
}

/**
 * sort_by_label() and sort_by_label_desc() (3.x): by the named labels' values in natural order (runs of
 * digits compared as numbers), ties by the whole label set. Go sorts with slices.SortFunc; the order
 * is total but for natsort's own inconsistencies (an empty value, "01" against "1"), where Go's result
 * depends on its algorithm's steps.
 */
class SortByLabelOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;

  constructor(private readonly input: VectorOperator, private readonly names: readonly string[], private readonly descending: boolean) {
    this.series = input.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    if (batch === null) return null;
    const labels = this.series.labels;
    const compare = (a: number, b: number): number => {
      const [la, lb] = [labels[a]!, labels[b]!];
      for (const name of this.names) {
        const [va, vb] = [la[name] ?? '', lb[name] ?? ''];
        if (va !== vb) return naturalLess(va, vb) ? -1 : 1;
      }
      return compareLabelSets(la, lb);
    };
    return batch.map((step) => {
      const order = Array.from({ length: step.length }, (_, k) => k);
      order.sort((a, b) => (this.descending ? -1 : 1) * compare(step.ids[a]!, step.ids[b]!));
      const out = new StepVector(step.t);
      for (const k of order) out.push(step.ids[k]!, step.values[k]!);
      return out;
    });
  }
}

/**
 * histogram_quantile(q, v) over classic histograms: samples grouped by all labels but `le` (the metric
 * name included, so that two histograms differing only in name are not merged; both lose the name in
 * the result, which then fails as a duplicate label set), skipping samples whose `le` does not parse as
 * a Go float. Prometheus iterates a Go map for the output, so its order is random; this is first-seen.
 */
class HistogramQuantileOperator implements VectorOperator {
  readonly type = 'vector';
  /** Histograms, numbered by their labels without `le` (the name kept, see above). */
  private readonly histograms = new SeriesTable();
  private readonly relabel: Relabel;
  private readonly histogramOf = new IdMap();
  private readonly upperBounds: number[] = [];

  constructor(private readonly q: ScalarOperator, private readonly input: VectorOperator) {
    this.relabel = new Relabel(this.histograms, dropMetricName);
  }

  get series(): SeriesTable {
    return this.relabel.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.input.next();
    const qs = await this.q.next();
    if (batch === null || qs === null) return null;
    return batch.map((step, i) => {
      const buckets = new Map<number, Bucket[]>();
      for (let k = 0; k < step.length; k++) {
        const h = this.histogram(step.ids[k]!);
        if (h < 0) continue;
        let list = buckets.get(h);
        if (list === undefined) buckets.set(h, (list = []));
        list.push({ upperBound: this.upperBounds[step.ids[k]!]!, count: step.values[k]! });
      }
      const out = new StepVector(step.t);
      this.relabel.startStep();
      for (const [h, list] of buckets) out.push(this.relabel.unique(h), bucketQuantile(qs[i]!, list));
      return out;
    });
  }

  /** The histogram of a bucket series, or -1 for a series without a parsable `le`. */
  private histogram(id: number): number {
    let h = this.histogramOf.get(id);
    if (h === -1) {
      const labels = this.input.series.labels[id]!;
      const upperBound = parseGoFloat(labels.le ?? '');
      h = upperBound === undefined ? -2 : this.histograms.intern(removeLabels(labels, ['le']));
      if (upperBound !== undefined) this.upperBounds[id] = upperBound;
      this.histogramOf.set(id, h);
    }
    return h < 0 ? -1 : h;
  }
}

/** vector(s): one sample without labels. */
class VectorOfScalar implements VectorOperator {
  readonly type = 'vector';
  readonly series = new SeriesTable();

  constructor(private readonly cursor: StepCursor, private readonly scalar: ScalarOperator) {
    this.series.intern({});
  }

  async next(): Promise<StepVector[] | null> {
    const times = this.cursor.batch();
    const values = await this.scalar.next();
    if (times === null || values === null) return null;
    return times.map((t, i) => {
      const out = new StepVector(t);
      out.push(0, values[i]!);
      return out;
    });
  }
}

/** A vector of one sample without labels whose value depends only on the step's time. */
class StepFunctionVector implements VectorOperator {
  readonly type = 'vector';
  readonly series = new SeriesTable();

  constructor(private readonly cursor: StepCursor, private readonly value: (t: number) => number) {
    this.series.intern({});
  }

  async next(): Promise<StepVector[] | null> {
    const times = this.cursor.batch();
    if (times === null) return null;
    return times.map((t) => {
      const out = new StepVector(t);
      out.push(0, this.value(t));
      return out;
    });
  }
}

/** A scalar that depends only on the step's time: time(), pi(), and number literals. */
export class StepFunctionScalar implements ScalarOperator {
  readonly type = 'scalar';

  constructor(private readonly cursor: StepCursor, private readonly value: (t: number) => number) {}

  async next(): Promise<Float64Array | null> {
    const times = this.cursor.batch();
    return times === null ? null : Float64Array.from(times, this.value);
  }
}

/** scalar(v): the single sample's value, NaN for none or several. */
class ScalarOfVector implements ScalarOperator {
  readonly type = 'scalar';

  constructor(private readonly input: VectorOperator) {}

  async next(): Promise<Float64Array | null> {
    const batch = await this.input.next();
    return batch === null ? null : Float64Array.from(batch, (step) => (step.length === 1 ? step.values[0]! : NaN));
  }
}
