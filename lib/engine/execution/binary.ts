// PromQL binary operators over step batches, with Prometheus 2.42's semantics (promql/engine.go:
// VectorBinop, VectorAnd/Or/Unless, VectorscalarBinop, vectorElemBinop, scalarBinop, resultMetric):
// matching signatures and result label sets are computed once per series, not per sample.
import type { BinaryOp, Matching as VectorMatching } from '../expr.ts';
import { goAtan2, goPow } from '../go/math.ts';
import { dropMetricName, formatLabels, keepLabels, labelsFrom, METRIC_NAME, removeLabels } from '../labels.ts';
import type { Major } from '../../promql/function-table.ts';
import type { Labels } from '../types.ts';
import { EvaluationError } from '../../errors.ts';
import type { ScalarOperator, VectorOperator } from './operator.ts';
import { IdMap, SeriesTable, StepMarks } from './series-table.ts';
import { StepVector } from './step-vector.ts';

const COMPARISONS: ReadonlySet<string> = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPERATORS: ReadonlySet<string> = new Set(['and', 'or', 'unless']);

/** Arithmetic drops the metric name; comparisons (without bool), atan2 and set operators keep it. */
export const dropsMetricName = (op: BinaryOp) => op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%';

export const isComparison = (op: BinaryOp) => COMPARISONS.has(op);

/** vectorElemBinop's arithmetic (for comparisons: the left value, kept or not by `passes`). */
export function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '/': return l / r; // IEEE: x/0 = ±Inf, 0/0 = NaN, as in Go
    case '%': return l % r; // JS % is fmod, like Go's math.Mod (sign of the dividend)
    case '^': return goPow(l, r); // Go's math.Pow, not Math.pow: see go/math.ts
    case 'atan2': return goAtan2(l, r);
    default: return l;
  }
}

/** Whether a comparison holds; every other operator keeps its pair. */
export function passes(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==': return l === r;
    case '!=': return l !== r;
    case '>': return l > r;
    case '<': return l < r;
    case '>=': return l >= r;
    case '<=': return l <= r;
    case 'and': case 'or': case 'unless':
      throw new EvaluationError(`operator "${op}" not allowed for operations between Vectors`);
    default: return true;
  }
}

/** Between two scalars. Comparisons are always `bool` ones (PromQL requires the modifier there). */
export function scalarScalar(op: BinaryOp, a: number, b: number): number {
  if (SET_OPERATORS.has(op)) throw new EvaluationError(`operator "${op}" not allowed for Scalar operations`);
  return COMPARISONS.has(op) ? (passes(op, a, b) ? 1 : 0) : arithmetic(op, a, b);
}

export class ScalarScalarOperator implements ScalarOperator {
  readonly type = 'scalar';

  constructor(private readonly op: BinaryOp, private readonly lhs: ScalarOperator, private readonly rhs: ScalarOperator) {}

  async next(): Promise<Float64Array | null> {
    const l = await this.lhs.next();
    const r = await this.rhs.next();
    if (l === null || r === null) return null;
    for (let i = 0; i < l.length; i++) l[i] = scalarScalar(this.op, l[i]!, r[i]!);
    return l;
  }
}

/**
 * Maps input series to output series where an operation changes label sets (dropping the metric name):
 * two inputs may then meet in one output, which Prometheus refuses at the step where both have a sample.
 */
export class Relabel {
  readonly series = new SeriesTable();
  private readonly outputOf = new IdMap();
  private readonly marks = new StepMarks();

  constructor(private readonly input: SeriesTable, private readonly relabel: (labels: Labels) => Labels) {}

  id(inputId: number): number {
    let out = this.outputOf.get(inputId);
    if (out < 0) this.outputOf.set(inputId, (out = this.series.intern(this.relabel(this.input.labels[inputId]!))));
    return out;
  }

  startStep(): void {
    this.marks.next();
  }

  /** The output id for a sample of `inputId` at the current step; throws where it repeats. */
  unique(inputId: number): number {
    const out = this.id(inputId);
    if (this.marks.mark(out)) throw new EvaluationError('vector cannot contain metrics with the same labelset');
    return out;
  }
}

/** Between an instant vector and a scalar; `scalarOnLeft` for `1 - x`. */
export class VectorScalarOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly relabel: Relabel | null;

  constructor(
    private readonly op: BinaryOp,
    private readonly vector: VectorOperator,
    private readonly scalar: ScalarOperator,
    private readonly scalarOnLeft: boolean,
    private readonly returnBool: boolean,
  ) {
    // Dropping the metric name is how a vector-scalar operation can produce the same label set twice
    // (`{__name__=~"a|b"} + 1`); otherwise the series pass through unchanged.
    this.relabel = dropsMetricName(op) || returnBool ? new Relabel(vector.series, dropMetricName) : null;
    this.series = this.relabel?.series ?? vector.series;
  }

  async next(): Promise<StepVector[] | null> {
    const batch = await this.vector.next();
    const scalars = await this.scalar.next();
    if (batch === null || scalars === null) return null;
    const { op, scalarOnLeft, returnBool, relabel } = this;
    const comparison = isComparison(op);
    return batch.map((step, i) => {
      const s = scalars[i]!;
      const out = new StepVector(step.t);
      relabel?.startStep();
      for (let k = 0; k < step.length; k++) {
        const v = step.values[k]!;
        const [l, r] = scalarOnLeft ? [s, v] : [v, s];
        const keep = passes(op, l, r);
        // A filtering comparison always returns the vector's value, whichever side it is on.
        let value = comparison ? v : arithmetic(op, l, r);
        if (returnBool) value = keep ? 1 : 0;
        else if (!keep) continue;
        const id = step.ids[k]!;
        out.push(relabel === null ? id : relabel.unique(id), value);
      }
      return out;
    });
  }
}

/** Matching signatures, one small integer per distinct `on(...)`/`ignoring(...)` label set. */
class Signatures {
  private readonly ids = new Map<string, number>();
  /** Labels of each signature, for error messages. */
  readonly labels: Labels[] = [];

  constructor(private readonly matching: VectorMatching) {}

  forSide(table: SeriesTable): (id: number) => number {
    const cache = new IdMap();
    return (id) => {
      let sig = cache.get(id);
      if (sig < 0) cache.set(id, (sig = this.of(table.labels[id]!)));
      return sig;
    };
  }

  matchLabels(labels: Labels): Labels {
    const m = this.matching;
    return m.on ? keepLabels(labels, m.labels) : removeLabels(labels, [METRIC_NAME, ...m.labels]);
  }

  private of(labels: Labels): number {
    const matched = this.matchLabels(labels);
    const key = JSON.stringify(matched);
    let sig = this.ids.get(key);
    if (sig === undefined) {
      this.ids.set(key, (sig = this.labels.length));
      this.labels.push(matched);
    }
    return sig;
  }
}

/** Between two instant vectors. Throws EvaluationError with Prometheus's messages for bad matches. */
export class VectorVectorOperator implements VectorOperator {
  readonly type = 'vector';
  readonly series: SeriesTable;
  private readonly signatures: Signatures;
  private readonly lhsSig: (id: number) => number;
  private readonly rhsSig: (id: number) => number;
  private readonly marks = new StepMarks();
  private readonly step: (l: StepVector, r: StepVector) => StepVector;

  constructor(
    private readonly op: BinaryOp,
    private readonly lhs: VectorOperator,
    private readonly rhs: VectorOperator,
    private readonly matching: VectorMatching,
    private readonly returnBool: boolean,
    /** 3.x checks the matching before a comparison filters pairs out; 2.x only the pairs it keeps. */
    private readonly major: Major = 2,
  ) {
    this.signatures = new Signatures(matching);
    this.lhsSig = this.signatures.forSide(lhs.series);
    this.rhsSig = this.signatures.forSide(rhs.series);
    switch (op) {
      case 'and': case 'unless':
        // The left side's series, filtered.
        this.series = lhs.series;
        this.step = (l, r) => this.filter(l, r, op === 'and');
        break;
      case 'or': {
        const fromLeft = new Relabel(lhs.series, (labels) => labels);
        this.series = fromLeft.series;
        const fromRight = new IdMap();
        const rightId = (id: number) => {
          let out = fromRight.get(id);
          if (out < 0) fromRight.set(id, (out = fromLeft.series.intern(rhs.series.labels[id]!)));
          return out;
        };
        this.step = (l, r) => this.or(l, r, fromLeft, rightId);
        break;
      }
      default: {
        if (matching.card === 'many-to-many') throw new EvaluationError('many-to-many only allowed for set operators');
        this.series = new SeriesTable();
        this.step = this.binopStep();
      }
    }
  }

  async next(): Promise<StepVector[] | null> {
    const l = await this.lhs.next();
    const r = await this.rhs.next();
    if (l === null || r === null) return null;
    return l.map((step, i) => this.step(step, r[i]!));
  }

  /** `and` keeps the left samples whose signature the right side has; `unless` those it lacks. */
  private filter(l: StepVector, r: StepVector, keepMatched: boolean): StepVector {
    if (l.length === 0 || (r.length === 0 && keepMatched)) return new StepVector(l.t);
    if (r.length === 0) return l;
    this.marks.next();
    for (let k = 0; k < r.length; k++) this.marks.mark(this.rhsSig(r.ids[k]!));
    const out = new StepVector(l.t);
    for (let k = 0; k < l.length; k++) {
      if (this.marks.has(this.lhsSig(l.ids[k]!)) === keepMatched) out.push(l.ids[k]!, l.values[k]!);
    }
    return out;
  }

  /** All of the left side, then the right-side samples whose signature the left side lacks. */
  private or(l: StepVector, r: StepVector, fromLeft: Relabel, rightId: (id: number) => number): StepVector {
    const out = new StepVector(l.t);
    this.marks.next();
    for (let k = 0; k < l.length; k++) {
      this.marks.mark(this.lhsSig(l.ids[k]!));
      out.push(fromLeft.id(l.ids[k]!), l.values[k]!);
    }
    for (let k = 0; k < r.length; k++) {
      if (l.length === 0 || !this.marks.has(this.rhsSig(r.ids[k]!))) out.push(rightId(r.ids[k]!), r.values[k]!);
    }
    return out;
  }

  /** Arithmetic and comparisons: one-to-one, many-to-one (group_left) or one-to-many (group_right). */
  private binopStep(): (l: StepVector, r: StepVector) => StepVector {
    const { op, matching, returnBool, signatures } = this;
    // Work as many-to-one; for one-to-many (group_right) swap the sides and swap the values back.
    const swapped = matching.card === 'one-to-many';
    const [manyTable, oneTable] = swapped ? [this.rhs.series, this.lhs.series] : [this.lhs.series, this.rhs.series];
    const [manySig, oneSig] = swapped ? [this.rhsSig, this.lhsSig] : [this.lhsSig, this.rhsSig];
    /** Where each signature's sample stands in the "one" side's vector at the current step. */
    let oneIndex = new Int32Array(16);
    const oneMarks = new StepMarks();
    const matchedMarks = new StepMarks();
    const outMarks = new StepMarks();
    /** 3.x: the result series each match group produced at the step, filtered or not (`${sig}/${id}`). */
    const insertedSigs = new Set<string>();
    /** The signature that produced each output id at the current step (valid where outMarks has it). */
    let outSig = new Int32Array(16);
    const oneToOne = matching.card === 'one-to-one';
    const resultIds = new IdMap();
    const pairIds: (IdMap | undefined)[] = [];
    const resultId = (manyId: number, oneId: number): number => {
      if (oneToOne) {
        let id = resultIds.get(manyId);
        if (id < 0) resultIds.set(manyId, (id = this.series.intern(this.resultLabels(manyTable.labels[manyId]!, oneTable.labels[oneId]!))));
        return id;
      }
      const byOne = (pairIds[manyId] ??= new IdMap());
      let id = byOne.get(oneId);
      if (id < 0) byOne.set(oneId, (id = this.series.intern(this.resultLabels(manyTable.labels[manyId]!, oneTable.labels[oneId]!))));
      return id;
    };
    const comparison = isComparison(op);

    return (l, r) => {
      if (l.length === 0 || r.length === 0) return new StepVector(l.t); // nothing can match, no error
      const [many, one] = swapped ? [r, l] : [l, r];
      oneMarks.next();
      for (let k = 0; k < one.length; k++) {
        const sig = oneSig(one.ids[k]!);
        if (sig >= oneIndex.length) {
          const grown = new Int32Array(Math.max(oneIndex.length * 2, sig + 1));
          grown.set(oneIndex);
          oneIndex = grown;
        }
        if (oneMarks.mark(sig)) {
          const sample = oneTable.labels[one.ids[k]!]!;
          const duplicate = oneTable.labels[one.ids[oneIndex[sig]!]!]!;
          throw new EvaluationError(
            `found duplicate series for the match group ${formatLabels(signatures.matchLabels(sample))} ` +
              `on the ${swapped ? 'left' : 'right'} hand-side of the operation: ` +
              `[${formatLabels(sample)}, ${formatLabels(duplicate)}]` +
              ';many-to-many matching not allowed: matching labels must be unique on one side',
          );
        }
        oneIndex[sig] = k;
      }
      matchedMarks.next();
      outMarks.next();
      insertedSigs.clear();
      let repeated = false;
      const out = new StepVector(many.t);
      for (let k = 0; k < many.length; k++) {
        const manyId = many.ids[k]!;
        const sig = manySig(manyId);
        if (!oneMarks.has(sig)) continue;
        const j = oneIndex[sig]!;
        const [lv, rv] = swapped ? [one.values[j]!, many.values[k]!] : [many.values[k]!, one.values[j]!];
        const keep = passes(op, lv, rv);
        const emits = returnBool || keep;
        // 3.x checks a match before the comparison filters it (a pair it drops still matched); 2.x
        // only the pairs that give a sample.
        if (oneToOne && (emits || this.major === 3) && matchedMarks.mark(sig)) {
          throw new EvaluationError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        }
        if (this.major === 3 && !oneToOne) {
          const key = `${sig}/${resultId(manyId, one.ids[j]!)}`;
          if (insertedSigs.has(key)) throw new EvaluationError('multiple matches for labels: grouping labels must ensure unique matches');
          insertedSigs.add(key);
        }
        if (!emits) continue;
        const value = returnBool ? (keep ? 1 : 0) : comparison ? lv : arithmetic(op, lv, rv);
        const id = resultId(manyId, one.ids[j]!);
        if (id >= outSig.length) {
          const grown = new Int32Array(Math.max(outSig.length * 2, id + 1));
          grown.set(outSig);
          outSig = grown;
        }
        if (outMarks.mark(id)) {
          if (!oneToOne && outSig[id] === sig) throw new EvaluationError('multiple matches for labels: grouping labels must ensure unique matches');
          repeated = true; // Prometheus's check of the whole result, after the operation
        }
        outSig[id] = sig;
        out.push(id, value);
      }
      if (repeated) throw new EvaluationError('vector cannot contain metrics with the same labelset');
      return out;
    };
  }

  /**
   * Labels of a vector-vector result, from the "many" side (the left one for one-to-one): one-to-one
   * keeps only the on() labels or drops the ignoring() ones; group_x labels are copied from the "one"
   * side, or removed where the "one" side lacks them.
   */
  private resultLabels(many: Labels, one: Labels): Labels {
    const { op, matching, returnBool } = this;
    let labels = dropsMetricName(op) ? dropMetricName(many) : many;
    if (matching.card === 'one-to-one') {
      labels = matching.on ? keepLabels(labels, matching.labels) : removeLabels(labels, matching.labels);
    }
    if (matching.include.length > 0) {
      const entries = new Map(Object.entries(labels));
      for (const name of matching.include) {
        const value = one[name];
        if (value) entries.set(name, value);
        else entries.delete(name);
      }
      labels = labelsFrom(entries);
    }
    return returnBool ? dropMetricName(labels) : labels;
  }
}
