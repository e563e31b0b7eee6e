// Number and duration literals, valued as Prometheus values them: numbers with Go's
// strconv.ParseInt(s, 0, 64) and then strconv.ParseFloat(s, 64) (parse.go's number()), durations
// with prometheus/common's model.ParseDuration. Errors carry Go's messages.
import type { Dialect } from './lex.ts';
import { goQuote } from './strings.ts';

export type Parsed = { readonly value: number; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

const INT64_MAX = (1n << 63n) - 1n;

/** strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary, underscores; null if it fails. */
function parseInt64(s: string): bigint | null {
  let body = s;
  let base = 10;
  if (body[0] === '0' && body.length > 1) {
    const p = body[1]!.toLowerCase();
    if (body.length >= 3 && p === 'x') [base, body] = [16, body.slice(2)];
    else if (body.length >= 3 && p === 'o') [base, body] = [8, body.slice(2)];
    else if (body.length >= 3 && p === 'b') [base, body] = [2, body.slice(2)];
    else [base, body] = [8, body.slice(1)];
  }
  const digits = body.replaceAll('_', '');
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base]!;
  if (digits === '' || !valid.test(digits)) return null;
  if (body.includes('_') && !underscoresOk(s)) return null;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const n = BigInt(prefix + digits);
  return n > INT64_MAX ? null : n;
}

/** The value of a NUMBER token, or Prometheus's "error parsing number: ..." detail. */
export function parseNumber(text: string): Parsed {
  const n = parseInt64(text);
  if (n !== null) return { value: Number(n) };
  const f = parseFloat64(text);
  if (typeof f === 'number') return { value: f };
  return { error: `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: ${f.error}` };
}

const DECIMAL = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX = /^([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+))[pP]([+-]?[0-9_]+)$/;

/**
 * Go's strconv.ParseFloat(s, 64): Go's float literal syntax (decimal, or hexadecimal with a mandatory p
 * exponent; `_` between digits), "inf"/"infinity" with optional sign and "nan", any case; no
 * surrounding spaces. Values out of range are errors (Go returns ±Inf with ErrRange).
 */
function parseFloat64(s: string): number | { readonly error: 'invalid syntax' | 'value out of range' } {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const invalid = { error: 'invalid syntax' } as const;
  if (s.includes('_') && !underscoresOk(s)) return invalid;
  const plain = s.replaceAll('_', '');
  let value: number;
  if (DECIMAL.test(s)) {
    value = Number(plain);
  } else {
    const hex = HEX.exec(plain);
    if (!HEX.test(s) || !hex) return invalid;
    const [, sign, mantissa = '', exponent = '0'] = hex;
    const dot = mantissa.indexOf('.');
    const digits = mantissa.replace('.', '');
    const fractionDigits = dot < 0 ? 0 : mantissa.length - dot - 1;
    // BigInt → Number rounds to nearest; scaling by a power of two is exact (outside subnormals).
    value = Number(BigInt(`0x${digits || '0'}`)) * 2 ** (Number(exponent) - 4 * fractionDigits);
    if (sign === '-') value = -value;
  }
  return Number.isFinite(value) ? value : { error: 'value out of range' };
}

/** strconv.ParseFloat(s, 64), or undefined where it returns an error (a bucket `le="1e400"` is skipped). */
export function parseGoFloat(s: string): number | undefined {
  const f = parseFloat64(s);
  return typeof f === 'number' ? f : undefined;
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

const UNIT_NS: Record<string, bigint> = {
  ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n,
  w: 604_800_000_000_000n, y: 31_536_000_000_000_000n,
};
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/**
 * The value in seconds of a DURATION token (`5m`, `1h30m`, `500ms`) with model.ParseDuration's
 * rules: units from the largest to the smallest, each at most once, at most ~292 years in all.
 * 2.42's version (common 0.39) words every malformed duration "not a valid duration string"; 3.x's
 * names an unknown unit.
 */
export function parseDuration(text: string, dialect: Dialect): Parsed {
  const notValid = { error: `not a valid duration string: ${goQuote(text)}` };
  const parts = [...text.matchAll(/(\d+)([a-z]+)/g)];
  if (parts.map((p) => p[0]).join('') !== text) return notValid;
  let total = 0n;
  let last = -1;
  for (const [, digits, unit] of parts) {
    const rank = UNIT_ORDER.indexOf(unit!);
    if (rank < 0) return dialect === 2 ? notValid : { error: `unknown unit ${goQuote(unit!)} in duration ${goQuote(text)}` };
    if (rank <= last) return notValid;
    last = rank;
    const ns = BigInt(digits!) * UNIT_NS[unit!]!;
    total += ns;
    if (ns > INT64_MAX || total > INT64_MAX) return { error: 'duration out of range' };
  }
  return { value: Number(total / 1_000_000n) / 1000 };
}

/** 3.x: a number used as a duration must fit time.Duration (int64 nanoseconds). */
export function durationOutOfRange(seconds: number): boolean {
  return seconds > 2 ** 63 / 1e9 || seconds < -(2 ** 63) / 1e9;
}
