// Go's strconv.ParseFloat, for label values Prometheus reads as numbers (histogram buckets' `le`).

const DECIMAL = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX = /^([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+))[pP]([+-]?[0-9_]+)$/;

/**
 * Go's strconv.ParseFloat(s, 64), or undefined where it returns an error: Go's float literal syntax
 * (decimal, or hexadecimal with a mandatory p exponent; `_` between digits), "inf"/"infinity" with
 * optional sign and "nan", any case; no surrounding spaces. Values out of range are errors (Go returns
 * ±Inf with ErrRange), so a bucket `le="1e400"` is skipped like an unparsable one.
 */
export function parseGoFloat(s: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s.includes('_') && !underscoresOk(s)) return undefined;
  const plain = s.replaceAll('_', '');
  let value: number;
  if (DECIMAL.test(s)) {
    value = Number(plain);
  } else {
    const hex = HEX.exec(plain);
    if (!HEX.test(s) || !hex) return undefined;
    const [, sign, mantissa = '', exponent = '0'] = hex;
    const dot = mantissa.indexOf('.');
    const digits = mantissa.replace('.', '');
    const fractionDigits = dot < 0 ? 0 : mantissa.length - dot - 1;
    // BigInt → Number rounds to nearest; scaling by a power of two is exact (outside subnormals).
    value = Number(BigInt(`0x${digits || '0'}`)) * 2 ** (Number(exponent) - 4 * fractionDigits);
    if (sign === '-') value = -value;
  }
  return Number.isFinite(value) ? value : undefined;
}

/** Go's underscoreOK: each `_` sits between digits (a base prefix counts as a digit). */
function underscoresOk(s: string): boolean {
  let body = s.replace(/^[+-]/, '');
  let saw = '^';
  let hex = false;
  if (/^0[bBoOxX]/.test(body)) {
    hex = /^0[xX]/.test(body);
    body = body.slice(2);
    saw = '0';
  }
  for (const c of body) {
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}
