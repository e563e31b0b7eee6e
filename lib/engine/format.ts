// How Prometheus 2.42's API writes float values into JSON (and count_values into a label value). The
// Go renderings themselves are in go/format.ts; this module only picks the one Prometheus uses where.
import { formatFloat } from './go/format.ts';

/**
 * A scalar's value as Prometheus 2.42 writes it in JSON, and count_values' label value:
 * `strconv.FormatFloat(v, 'f', -1, 64)` (shortest round-trip digits, never an exponent:
 * 1e21 → "1000000000000000000000"), "NaN", "+Inf", "-Inf".
 *
 * Not for the samples of vectors and matrices: see formatSampleValue.
 */
export function formatValue(v: number): string {
  return formatFloat(v, 'f');
}

/**
 * A vector or matrix sample's value as Prometheus 2.42 writes it in JSON (api/v1 marshalValue): like
 * formatValue, but with Go's exponent notation when 0 < |v| < 1e-6 or |v| >= 1e21
 * (1e21 → "1e+21", 1e-7 → "1e-07", 1.5e300 → "1.5e+300").
 */
export function formatSampleValue(v: number): string {
  const abs = Math.abs(v);
  return formatFloat(v, abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f');
}
