// Go's math package (and float → int64 conversion) where it differs from JavaScript's in ways Prometheus
// 2.42 users can see. Go computes Pow, Atan2 and, on amd64, Log in its own code rather than with the C
// library V8 uses, so results can differ in the last bits from Math.pow / Math.atan2 / Math.log; Max and
// Min treat NaN, ±Inf and ±0 differently from Math.max / Math.min. Each is redone here after Go's source.

const view = new DataView(new ArrayBuffer(8));

// --- Max, Min ------------------------------------------------------------------------------------------

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

// --- Frexp, Ldexp --------------------------------------------------------------------------------------

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

/** Go's math.Ldexp: frac × 2^exp with a single rounding, also into the subnormal range. */
export function ldexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  const [f, e] = frexp(frac); // f in [0.5, 1): frac = f × 2^(e)
  const unbiased = exp + e - 1; // exponent of f×2 in [1, 2)
  if (unbiased < -1075) return frac < 0 ? -0 : 0;
  if (unbiased > 1023) return frac < 0 ? -Infinity : Infinity;
  if (unbiased < -1022) return f * 2 * 2 ** (unbiased + 53) * 2 ** -53; // exact, then one rounding
  return f * 2 * 2 ** unbiased;
}

// --- Pow -----------------------------------------------------------------------------------------------

function isOddInt(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < 2 ** 53 && Math.abs(x % 2) === 1;
}

/**
 * Go's math.Pow (pure Go on amd64): special cases first, integer part by repeated squaring. Only the
 * fractional part of a non-integer power still goes through Math.exp / Math.log (Go uses its own
 * assembly there), so those results may differ from Go's in the last bits.
 */
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

// --- Atan2 ---------------------------------------------------------------------------------------------

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

// --- Log, Log2, Log10 ----------------------------------------------------------------------------------

/** 1/ln(2) and 1/ln(10) as Go's untyped constants round them (JS parses literals correctly rounded). */
const INV_LN2 = 1.442695040888963407359924681001892137426645954152985934135449407;
const INV_LN10 = 0.434294481903251827651128918916605082294397005803666566114453783;

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-1;
const L2 = 3.999999999940941908e-1;
const L3 = 2.857142874366239149e-1;
const L4 = 2.222219843214978396e-1;
const L5 = 1.818357216161805012e-1;
const L6 = 1.531383769920937332e-1;
const L7 = 1.479819860511658591e-1;

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

/** Go's math.Log2: exact for powers of two, otherwise Log(frac)/ln2 + exp. */
export function goLog2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * INV_LN2 + exp;
}

/** Go's math.Log10 is Log(x)·(1/ln10): not always JS's Math.log10 (log10(3) differs), nor exact. */
export function goLog10(x: number): number {
  return goLog(x) * INV_LN10;
}

// --- float64 → int64 -----------------------------------------------------------------------------------

/** The largest float64 below 2^63: the top of the range that converts to an int64 without overflow. */
const MAX_INT64_FLOAT = 9223372036854774784;
const MIN_INT64_FLOAT = -9223372036854775808;

/**
 * Whether Go's int64(x) is a plain truncation, without overflow: Prometheus's convertibleToInt64.
 * False for NaN and ±Inf.
 */
export function fitsInt64(x: number): boolean {
  return x <= MAX_INT64_FLOAT && x >= MIN_INT64_FLOAT;
}

const INT64_MIN = -(2n ** 63n);

/**
 * Go's int64(x) for a float64 on amd64: truncation toward zero, and for NaN, ±Inf and anything out of
 * range the "integer indefinite" value, math.MinInt64 (the CPU's CVTTSD2SI result).
 */
export function goInt64(x: number): bigint {
  if (!fitsInt64(x)) return INT64_MIN;
  return BigInt(Math.trunc(x));
}
