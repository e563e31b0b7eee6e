// PromQL binary operators with Prometheus 2.42's semantics (promql/engine.go: VectorBinop,
// VectorAnd/Or/Unless, VectorscalarBinop, vectorElemBinop, scalarBinop, resultMetric, signatureFunc),
// over float samples.
import { dropMetricName, formatLabels, keepLabels, labelsFrom, labelsKey, METRIC_NAME, removeLabels } from './labels.ts';
import { goAtan2, goPow } from './go/math.ts';
import { assertUnique } from './series.ts';
import { EvaluationError } from './types.ts';
import type { Labels, Sample, Vector } from './types.ts';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^' | 'atan2'
  | '==' | '!=' | '>' | '<' | '>=' | '<='
  | 'and' | 'or' | 'unless';

/**
 * How the sides of a vector-vector operation match. `labels` are the on()/ignoring() labels
 * (`on: false` with no labels is the default: match on all labels but `__name__`); `include` are
 * the group_left()/group_right() labels.
 */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly include: readonly string[];
}

const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPERATORS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

/** Arithmetic drops the metric name; comparisons (without bool), atan2 and set operators keep it. */
const dropsMetricName = (op: BinaryOp) => op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%';

/** Between two instant vectors. Throws EvaluationError with Prometheus's messages for bad matches. */
export function vectorVector(op: BinaryOp, lhs: Vector, rhs: Vector, matching: VectorMatching, returnBool: boolean): Vector {
  const signature = signatureFunc(matching);
  switch (op) {
    case 'and': return setAnd(lhs, rhs, signature);
    case 'or': return setOr(lhs, rhs, signature);
    case 'unless': return setUnless(lhs, rhs, signature);
    default: return vectorBinop(op, lhs, rhs, matching, returnBool, signature);
  }
}

/** Between an instant vector and a scalar; `scalarOnLeft` for `1 - x`. */
export function vectorScalar(op: BinaryOp, vector: Vector, scalar: number, scalarOnLeft: boolean, returnBool: boolean): Vector {
  const out: Sample[] = [];
  for (const sample of vector) {
    const [l, r] = scalarOnLeft ? [scalar, sample.value] : [sample.value, scalar];
    let { value, keep } = elemBinop(op, l, r);
    // A filtering comparison always returns the vector's value, whichever side it is on.
    if (COMPARISONS.has(op) && scalarOnLeft) value = r;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    const labels = dropsMetricName(op) || returnBool ? dropMetricName(sample.labels) : sample.labels;
    out.push({ labels, value });
  }
  // Prometheus checks every intermediate result of an evaluation step for this; dropping the metric
  // name is how a vector-scalar operation can produce it (`{__name__=~"a|b"} + 1`).
  assertUnique(out);
  return out;
}

/** Between two scalars. Comparisons are always `bool` ones (PromQL requires the modifier there). */
export function scalarScalar(op: BinaryOp, a: number, b: number, _returnBool: boolean): number {
  if (SET_OPERATORS.has(op)) throw new EvaluationError(`operator "${op}" not allowed for Scalar operations`);
  const { value, keep } = elemBinop(op, a, b);
  return COMPARISONS.has(op) ? (keep ? 1 : 0) : value;
}

// --- matching ----------------------------------------------------------------------------------------

type Signature = (labels: Labels) => string;

/** The label set two samples must share to match: on() keeps the listed labels (`__name__` only if listed), ignoring() drops them and `__name__`. */
function matchLabels(labels: Labels, matching: VectorMatching): Labels {
  return matching.on ? keepLabels(labels, matching.labels) : removeLabels(labels, [METRIC_NAME, ...matching.labels]);
}

function signatureFunc(matching: VectorMatching): Signature {
  return (labels) => labelsKey(matchLabels(labels, matching));
}

function vectorBinop(op: BinaryOp, lhs: Vector, rhs: Vector, matching: VectorMatching, returnBool: boolean, signature: Signature): Vector {
  if (matching.card === 'many-to-many') throw new EvaluationError('many-to-many only allowed for set operators');
  if (lhs.length === 0 || rhs.length === 0) return []; // nothing can match (and no error is raised)

  // Work as many-to-one; for one-to-many (group_right) swap the sides and swap the values back.
  const swapped = matching.card === 'one-to-many';
  const [many, one] = swapped ? [rhs, lhs] : [lhs, rhs];

  const oneBySignature = new Map<string, Sample>();
  for (const sample of one) {
    const sig = signature(sample.labels);
    const duplicate = oneBySignature.get(sig);
    if (duplicate !== undefined) {
      throw new EvaluationError(
        `found duplicate series for the match group ${formatLabels(matchLabels(sample.labels, matching))} ` +
          `on the ${swapped ? 'left' : 'right'} hand-side of the operation: ` +
          `[${formatLabels(sample.labels)}, ${formatLabels(duplicate.labels)}]` +
          ';many-to-many matching not allowed: matching labels must be unique on one side',
      );
    }
    oneBySignature.set(sig, sample);
  }

  // one-to-one: the signatures already matched; many-to-one: the result label sets per signature.
  const matched = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const sample of many) {
    const sig = signature(sample.labels);
    const other = oneBySignature.get(sig);
    if (other === undefined) continue;
    const [l, r] = swapped ? [other.value, sample.value] : [sample.value, other.value];
    const { value, keep } = elemBinop(op, l, r);
    if (!returnBool && !keep) continue;
    let labels = resultMetric(sample.labels, other.labels, op, matching);
    if (returnBool) labels = dropMetricName(labels);

    if (matching.card === 'one-to-one') {
      if (matched.has(sig)) throw new EvaluationError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(sig, null);
    } else {
      const key = labelsKey(labels);
      let results = matched.get(sig);
      if (!results) matched.set(sig, (results = new Set()));
      else if (results.has(key)) throw new EvaluationError('multiple matches for labels: grouping labels must ensure unique matches');
      results.add(key);
    }
    out.push({ labels, value: returnBool ? (keep ? 1 : 0) : value });
  }
  return out;
}

/**
 * Labels of a vector-vector result, from the "many" side (the left one for one-to-one): one-to-one
 * keeps only the on() labels or drops the ignoring() ones; group_x labels are copied from the "one"
 * side, or removed where the "one" side lacks them.
 */
function resultMetric(many: Labels, one: Labels, op: BinaryOp, matching: VectorMatching): Labels {
  let labels = dropsMetricName(op) ? dropMetricName(many) : many;
  if (matching.card === 'one-to-one') {
    labels = matching.on ? keepLabels(labels, matching.labels) : removeLabels(labels, matching.labels);
  }
  if (matching.include.length === 0) return labels;
  const entries = new Map(Object.entries(labels));
  for (const name of matching.include) {
    const value = one[name];
    if (value) entries.set(name, value);
    else entries.delete(name);
  }
  return labelsFrom(entries);
}

// --- set operators (always many-to-many) -------------------------------------------------------------

function setAnd(lhs: Vector, rhs: Vector, signature: Signature): Vector {
  if (lhs.length === 0 || rhs.length === 0) return [];
  const right = new Set(rhs.map((s) => signature(s.labels)));
  return lhs.filter((s) => right.has(signature(s.labels)));
}

/** All of the left side, then the right-side samples whose signature the left side lacks. */
function setOr(lhs: Vector, rhs: Vector, signature: Signature): Vector {
  if (lhs.length === 0) return [...rhs];
  if (rhs.length === 0) return [...lhs];
  const left = new Set(lhs.map((s) => signature(s.labels)));
  return [...lhs, ...rhs.filter((s) => !left.has(signature(s.labels)))];
}

function setUnless(lhs: Vector, rhs: Vector, signature: Signature): Vector {
  if (lhs.length === 0 || rhs.length === 0) return [...lhs];
  const right = new Set(rhs.map((s) => signature(s.labels)));
  return lhs.filter((s) => !right.has(signature(s.labels)));
}

// --- element operations ------------------------------------------------------------------------------

/** vectorElemBinop: the value and, for comparisons, whether the pair passes (the value is then the left one). */
function elemBinop(op: BinaryOp, l: number, r: number): { value: number; keep: boolean } {
  switch (op) {
    case '+': return { value: l + r, keep: true };
    case '-': return { value: l - r, keep: true };
    case '*': return { value: l * r, keep: true };
    case '/': return { value: l / r, keep: true }; // IEEE: x/0 = ±Inf, 0/0 = NaN, as in Go
    case '%': return { value: l % r, keep: true }; // JS % is fmod, like Go's math.Mod (sign of the dividend)
    case '^': return { value: goPow(l, r), keep: true }; // Go's math.Pow, not Math.pow: see go/math.ts
    case 'atan2': return { value: goAtan2(l, r), keep: true }; // Go's math.Atan2
    case '==': return { value: l, keep: l === r };
    case '!=': return { value: l, keep: l !== r };
    case '>': return { value: l, keep: l > r };
    case '<': return { value: l, keep: l < r };
    case '>=': return { value: l, keep: l >= r };
    case '<=': return { value: l, keep: l <= r };
    default: throw new EvaluationError(`operator "${op}" not allowed for operations between Vectors`);
  }
}
