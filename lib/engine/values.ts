/** Prometheus's JSON sample values: decimal strings, "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}
