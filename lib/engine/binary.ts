// PromQL binary operators with Prometheus 2.42's semantics (promql/engine.go: VectorBinop,
// VectorAnd/Or/Unless, VectorscalarBinop, vectorElemBinop, scalarBinop, resultMetric, signatureFunc),
// over float samples.
import { dropMetricName, formatLabels, keepLabels, labelsFrom, labelsKey, METRIC_NAME, removeLabels } from './labels.ts';
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
    case '^': return { value: goPow(l, r), keep: true };
    case 'atan2': return { value: goAtan2(l, r), keep: true };
    case '==': return { value: l, keep: l === r };
    case '!=': return { value: l, keep: l !== r };
    case '>': return { value: l, keep: l > r };
    case '<': return { value: l, keep: l < r };
    case '>=': return { value: l, keep: l >= r };
    case '<=': return { value: l, keep: l <= r };
    default: throw new EvaluationError(`operator "${op}" not allowed for operations between Vectors`);
  }
}

// --- Go's math.Pow and math.Atan2 --------------------------------------------------------------------
// Go computes these in software (not with the C library V8 uses), so results can differ in the last
// bits from Math.pow / Math.atan2. Both algorithms are redone here; only the fractional part of a
// non-integer power still goes through Math.exp / Math.log (Go uses its own assembly there).

const F64 = new DataView(new ArrayBuffer(8));

/** Go's math.Frexp: x = frac × 2^exp with |frac| in [0.5, 1). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let exp = 0;
  if (Math.abs(x) < 2.2250738585072014e-308) {
    x *= 2 ** 52; // normalise a subnormal
    exp = -52;
  }
  F64.setFloat64(0, x);
  const hi = F64.getUint32(0);
  exp += ((hi >>> 20) & 0x7ff) - 1022;
  F64.setUint32(0, (hi & ~(0x7ff << 20)) | (1022 << 20));
  return [F64.getFloat64(0), exp];
}

/** Go's math.Ldexp: frac × 2^exp with a single rounding, also into the subnormal range. */
function ldexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  const [f, e] = frexp(frac); // f in [0.5, 1): frac = f × 2^(e)
  const unbiased = exp + e - 1; // exponent of f×2 in [1, 2)
  if (unbiased < -1075) return frac < 0 ? -0 : 0;
  if (unbiased > 1023) return frac < 0 ? -Infinity : Infinity;
  if (unbiased < -1022) return f * 2 * 2 ** (unbiased + 53) * 2 ** -53; // exact, then one rounding
  return f * 2 * 2 ** unbiased;
}

function isOddInt(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < 2 ** 53 && Math.abs(x % 2) === 1;
}

/** Go's math.Pow (pure Go on amd64): special cases first, integer part by repeated squaring. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0) {
    if (y < 0) return Object.is(x, -0) && isOddInt(y) ? -Infinity : Infinity;
    return Object.is(x, -0) && isOddInt(y) ? x : 0;
  }
  if (!Number.isFinite(y)) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y === Infinity) ? 0 : Infinity;
  }
  if (!Number.isFinite(x)) {
    if (x === -Infinity) return goPow(1 / x, -y); // Pow(-0, -y)
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);

  let yi = Math.trunc(Math.abs(y));
  let yf = Math.abs(y) - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    // A huge even integer: overflow or underflow for every x but -1.
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = BigInt(yi); i !== 0n; i >>= 1n) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      // Would overflow the exponent: Ldexp below turns this into 0 or Inf.
      ae += xe;
      break;
    }
    if (i & 1n) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return ldexp(a1, ae);
}

/** Go's math.Atan2 (pure Go on amd64, a Cephes-derived arctangent). */
export function goAtan2(y: number, x: number): number {
  if (Number.isNaN(y) || Number.isNaN(x)) return NaN;
  const copysign = (v: number, sign: number) => (sign < 0 || Object.is(sign, -0) ? -Math.abs(v) : Math.abs(v));
  if (y === 0) return x >= 0 && !Object.is(x, -0) ? copysign(0, y) : copysign(Math.PI, y);
  if (x === 0) return copysign(Math.PI / 2, y);
  if (!Number.isFinite(x)) {
    if (x === Infinity) return Number.isFinite(y) ? copysign(0, y) : copysign(Math.PI / 4, y);
    return Number.isFinite(y) ? copysign(Math.PI, y) : copysign((3 * Math.PI) / 4, y);
  }
  if (!Number.isFinite(y)) return copysign(Math.PI / 2, y);
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? reducedAtan(x) : -reducedAtan(-x);
}

/** Cephes atan: reduce a positive argument to [0, 0.66], then a rational approximation. */
function reducedAtan(x: number): number {
  const moreBits = 6.123233995736765886130e-17; // pi/2 = PIO2 + moreBits
  const tan3pio8 = 2.41421356237309504880; // tan(3*pi/8)
  if (x <= 0.66) return atanSeries(x);
  if (x > tan3pio8) return Math.PI / 2 - atanSeries(1 / x) + moreBits;
  return Math.PI / 4 + atanSeries((x - 1) / (x + 1)) + 0.5 * moreBits;
}

function atanSeries(x: number): number {
  const z = x * x;
  const p = (((-8.750608600031904122785e-01 * z + -1.615753718733365076637e+01) * z + -7.500855792314704667340e+01) * z +
    -1.228866684490136173410e+02) * z + -6.485021904942025371773e+01;
  const q = ((((z + 2.485846490142306297962e+01) * z + 1.650270098316988542046e+02) * z + 4.328810604912902668951e+02) * z +
    4.853903996359136964868e+02) * z + 1.945506571482613964425e+02;
  return x * ((z * p) / q) + x;
}
