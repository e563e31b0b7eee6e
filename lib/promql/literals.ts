// Number and duration literals, valued as Prometheus values them: numbers with Go's
// strconv.ParseInt(s, 0, 64) and then strconv.ParseFloat(s, 64) (parse.go's number()), durations
// with prometheus/common's model.ParseDuration. Errors carry Go's messages.
import type { Dialect } from './lex.ts';
import { goQuote } from './strings.ts';

export type Parsed = { readonly value: number; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

const INT64_MAX = (1n << 63n) - 1n;

/** Whether underscores stand only between digits or after a base prefix (Go's underscoreOK). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
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
  if (body.includes('_') && !underscoreOK(s)) return null;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const n = BigInt(prefix + digits);
  return n > INT64_MAX ? null : n;
}

/** The value of a NUMBER token, or Prometheus's "error parsing number: ..." detail. */
export function parseNumber(text: string): Parsed {
  const n = parseInt64(text);
  if (n !== null) return { value: Number(n) };
  return parseFloat64(text);
}

function parseFloat64(text: string): Parsed {
  const invalid = { error: `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax` };
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return { value: Infinity };
  if (lower === '-inf' || lower === '-infinity') return { value: -Infinity };
  if (lower === 'nan') return { value: NaN };
  // Hexadecimal floats need a `p` exponent, which no NUMBER token has.
  if (!/^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/.test(text)) return invalid;
  const mantissa = text.replace(/[eE].*$/, '');
  if (!/[0-9]/.test(mantissa)) return invalid;
  if (text.includes('_') && !underscoreOK(text)) return invalid;
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isFinite(value)) {
    return { error: `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: value out of range` };
  }
  return { value };
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
