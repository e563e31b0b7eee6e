// Go's renderings of numbers and strings, as Prometheus 2.42 puts them into API answers, label values
// and error messages. JavaScript's own number formatting switches to exponent notation at other
// thresholds and drops the sign of -0, so the digits are taken from it and laid out the way Go's
// strconv does.

/**
 * A scalar's value as Prometheus 2.42 writes it in JSON, and count_values' label value:
 * `strconv.FormatFloat(v, 'f', -1, 64)` (shortest round-trip digits, never an exponent:
 * 1e21 → "1000000000000000000000"), "NaN", "+Inf", "-Inf".
 *
 * Not for the samples of vectors and matrices: see formatSampleValue.
 */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const { negative, digits, exponent } = shortestDigits(v);
  return (negative ? '-' : '') + fixedNotation(digits, exponent);
}

/**
 * A vector or matrix sample's value as Prometheus 2.42 writes it in JSON (api/v1 marshalValue): like
 * formatValue, but with Go's exponent notation when 0 < |v| < 1e-6 or |v| >= 1e21
 * (1e21 → "1e+21", 1e-7 → "1e-07", 1.5e300 → "1.5e+300").
 */
export function formatSampleValue(v: number): string {
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21) && Number.isFinite(v)) {
    const { negative, digits, exponent } = shortestDigits(v);
    return (negative ? '-' : '') + exponentNotation(digits, exponent);
  }
  return formatValue(v);
}

/**
 * Go's `%v` for a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`), as in the error message
 * "Scalar value 1e+19 overflows int64". For the shortest representation Go switches to exponent
 * notation when the decimal exponent is < -4 or >= 6 (1e+06, 123456, 1.234567e+06), with at least
 * two exponent digits.
 */
export function formatGoFloat(v: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const { negative, digits, exponent } = shortestDigits(v);
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 6) return sign + exponentNotation(digits, exponent);
  return sign + fixedNotation(digits, exponent);
}

/** Go's `strconv.Quote`, as used by `%q` in Prometheus's error messages. */
export function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) out += named;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // a lone surrogate: Go sees invalid UTF-8 → U+FFFD
    else if (isGoPrintable(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

const NAMED_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"',
};

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * The shortest decimal digits that round-trip to `v` and the decimal exponent of the first digit.
 * JavaScript's and Go's shortest formatting both pick the shortest round-tripping digits (closest to
 * the exact value), so `toExponential()` without a precision gives Go's digits.
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

function nonFinite(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}
