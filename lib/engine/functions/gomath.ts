// The few places where Go's float behaviour differs from JavaScript's in ways Prometheus users can see.

/** Go's math.Max: +Inf wins over NaN (JS's Math.max would give NaN), +0 wins over -0. */
export function goMax(x: number, y: number): number {
  if (x === Infinity || y === Infinity) return Infinity;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && x === y) return Object.is(x, -0) ? y : x;
  return x > y ? x : y;
}

/** Go's math.Min: -Inf wins over NaN, -0 wins over +0. */
export function goMin(x: number, y: number): number {
  if (x === -Infinity || y === -Infinity) return -Infinity;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0 && x === y) return Object.is(x, -0) ? x : y;
  return x < y ? x : y;
}

const view = new DataView(new ArrayBuffer(8));

/** Go's math.Frexp: x = frac × 2^exp with |frac| in [0.5, 1); (x, 0) for ±0, ±Inf and NaN. */
export function frexp(x: number): [frac: number, exp: number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let scale = 0;
  if (Math.abs(x) < 2 ** -1022) {
    x *= 2 ** 52; // subnormal: normalise first
    scale = -52;
  }
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const exp = ((hi >>> 20) & 0x7ff) - 1022 + scale;
  view.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [view.getFloat64(0), exp];
}

/** 1/ln(2) and 1/ln(10) as Go's untyped constants round them (JS parses literals correctly rounded). */
const INV_LN2 = 1.442695040888963407359924681001892137426645954152985934135449407;
const INV_LN10 = 0.434294481903251827651128918916605082294397005803666566114453783;

/**
 * Go's math.Log on amd64 (log_amd64.s, the FreeBSD algorithm): V8's Math.log rounds differently in
 * some last bits. Its argument reduction reads the exponent bits directly (subnormals are not
 * normalised) and halves the fraction when it is at most √2/2.
 */
export function goLog(x: number): number {
  if (x === 0) return -Infinity;
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === Infinity) return x;
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  view.setUint32(0, (hi & 0x000fffff) | 0x3fe00000);
  let f1 = view.getFloat64(0);
  if (f1 <= 7.07106781186547524401e-1) {
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const r = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - (hfsq - (s * (hfsq + r) + k * LN2_LO) - f);
}

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-1;
const L2 = 3.999999999940941908e-1;
const L3 = 2.857142874366239149e-1;
const L4 = 2.222219843214978396e-1;
const L5 = 1.818357216161805012e-1;
const L6 = 1.531383769920937332e-1;
const L7 = 1.479819860511658591e-1;

/** Go's math.Log2: exact for powers of two, otherwise Log(frac)/ln2 + exp. */
export function log2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * INV_LN2 + exp;
}

/** Go's math.Log10 is Log(x)·(1/ln10): not always JS's Math.log10 (log10(3) differs), nor exact. */
export function log10(x: number): number {
  return goLog(x) * INV_LN10;
}

const INT64_MIN = -(2n ** 63n);

/**
 * Go's int64(x) for a float64 on amd64: truncation toward zero, and for NaN, ±Inf and anything out of
 * range the "integer indefinite" value, math.MinInt64 (the CPU's CVTTSD2SI result).
 */
export function goInt64(x: number): bigint {
  if (!(x >= -(2 ** 63) && x < 2 ** 63)) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/**
 * Go's fmt `%f` (six decimals, exact decimal expansion, round half to even), as Prometheus puts float
 * arguments into error messages: 1 → "1.000000", NaN → "NaN", +Inf → "+Inf", -0 → "-0.000000".
 */
export function formatGoF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const negative = x < 0 || Object.is(x, -0);
  // |x| exactly as a fraction num / 2^k, then scaled by 10^6 and rounded half to even.
  let num: bigint;
  let k = 0n;
  const [frac, exp] = frexp(Math.abs(x));
  // frac has 53 significant bits: frac × 2^53 is an integer.
  num = BigInt(frac * 2 ** 53);
  const e = BigInt(exp) - 53n;
  if (e >= 0n) num <<= e;
  else k = -e;
  const scaled = num * 1_000_000n;
  const den = 1n << k;
  let q = scaled / den;
  const r = scaled % den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  const digits = q.toString().padStart(7, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
