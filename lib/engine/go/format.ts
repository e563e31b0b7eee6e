// Go's renderings of floats and strings (strconv.FormatFloat, fmt's %f, strconv.Quote), as Prometheus
// 2.42 puts them into API answers, label values and error messages. JavaScript's own number formatting
// switches to exponent notation at other thresholds and drops the sign of -0, so the digits are taken
// from it and laid out the way Go's strconv does.
import { frexp } from './math.ts';

/**
 * `strconv.FormatFloat(v, format, -1, 64)`: the shortest digits that round-trip, laid out as
 * - 'f': never an exponent (1e21 → "1000000000000000000000", 1e-7 → "0.0000001");
 * - 'e': d.ddd then the exponent with a sign and at least two digits (1e21 → "1e+21", 1e-7 → "1e-07");
 * - 'g': 'e' when the decimal exponent is < -4 or >= 6 (Go's rule for the shortest form), else 'f'
 *   (123456 → "123456", 1234567 → "1.234567e+06"). This is also what fmt's `%v` prints for a float64.
 * "NaN", "+Inf" and "-Inf" in every format.
 */
export function formatFloat(v: number, format: 'e' | 'f' | 'g'): string {
  // JavaScript writes [1e-6, 1e21) in plain notation with the same shortest digits: the common case
  // (every sample of most answers) needs no digit layout of its own.
  const abs = Math.abs(v);
  if (format === 'f' && abs >= 1e-6 && abs < 1e21) return String(v);
  if (!Number.isFinite(v)) return nonFinite(v);
  const { negative, digits, exponent } = shortestDigits(v);
  const exponential = format === 'e' || (format === 'g' && (exponent < -4 || exponent >= 6));
  return (negative ? '-' : '') + (exponential ? exponentNotation(digits, exponent) : fixedNotation(digits, exponent));
}

/**
 * fmt's `%f` (six decimals, exact decimal expansion, round half to even), as Prometheus puts float
 * arguments into error messages: 1 → "1.000000", NaN → "NaN", +Inf → "+Inf", -0 → "-0.000000".
 */
export function formatGoF(x: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
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

/** `strconv.Quote`, as used by `%q` in Prometheus's error messages (one implementation, beside PromQL's strings). */
export { goQuote as quoteGo } from '../../promql/strings.ts';

/**
 * The shortest decimal digits that round-trip to `v` (finite) and the decimal exponent of the first
 * digit. JavaScript's and Go's shortest formatting both pick the shortest round-tripping digits
 * (closest to the exact value), so `toExponential()` without a precision gives Go's digits.
 */
function shortestDigits(v: number): { negative: boolean; digits: string; exponent: number } {
  const negative = v < 0 || Object.is(v, -0);
  const [mantissa, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  return { negative, digits: mantissa.replace('.', ''), exponent: Number(exp) };
}

/** Digits d1d2d3... with the first digit at 10^exponent, written without an exponent. */
function fixedNotation(digits: string, exponent: number): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intLen = exponent + 1;
  if (digits.length <= intLen) return digits + '0'.repeat(intLen - digits.length);
  return `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Go's 'e' layout: d.ddd, then the exponent with a sign and at least two digits (1e-07, 5e-324). */
function exponentNotation(digits: string, exponent: number): string {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const exp = Math.abs(exponent);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${exp < 10 ? '0' : ''}${exp}`;
}

/** Go's spelling of NaN and the infinities, the same in every float format. */
function nonFinite(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}
