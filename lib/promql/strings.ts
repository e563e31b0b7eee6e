// PromQL string literals follow Go's syntax: "double" and 'single' quoted strings with Go escapes,
// and `raw` strings without escapes. Label values in matchers must be decoded exactly as Prometheus
// decodes them, or a shard named `eu"west` would be matched wrongly.

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"',
};

export class StringLiteralError extends Error {}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Stands for a decoded value that is not valid UTF-8: equal to no label value a shard can have. */
export const INVALID_UTF8 = '\uD800';

/** Decodes a PromQL string literal including its quotes. Throws StringLiteralError on a bad escape. */
export function unquote(literal: string): string {
  const quote = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== quote) {
    throw new StringLiteralError(`unterminated string literal ${literal}`);
  }
  const body = literal.slice(1, -1);
  // Go's lexer reads the query as UTF-8 and rejects the replacement character written raw.
  if (body.includes('\uFFFD')) throw new StringLiteralError('invalid UTF-8 rune');
  if (quote === '`') return body;
  if (quote !== '"' && quote !== "'") throw new StringLiteralError(`not a string literal: ${literal}`);
  if (!body.includes('\\')) return body;

  // Go decodes \x and octal escapes to raw bytes and \u to code points; collect bytes, decode once.
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const pushText = (s: string) => { for (const b of encoder.encode(s)) bytes.push(b); };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      const cp = body.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      pushText(s);
      i += s.length - 1;
      continue;
    }
    const esc = body[++i];
    if (esc === undefined) throw new StringLiteralError('escape sequence not terminated');
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      if ((esc === "'" && quote === '"') || (esc === '"' && quote === "'")) {
        throw new StringLiteralError(`unknown escape sequence \\${esc}`);
      }
      pushText(simple);
    } else if (esc === 'x') {
      bytes.push(parseDigits(body.slice(i + 1, i + 3), 16, 2));
      i += 2;
    } else if (esc >= '0' && esc <= '7') {
      const value = parseDigits(body.slice(i, i + 3), 8, 3);
      if (value > 255) throw new StringLiteralError('octal escape value > 255');
      bytes.push(value);
      i += 2;
    } else if (esc === 'u' || esc === 'U') {
      const width = esc === 'u' ? 4 : 8;
      const cp = parseDigits(body.slice(i + 1, i + 1 + width), 16, width);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new StringLiteralError('escape sequence is an invalid Unicode code point');
      pushText(String.fromCodePoint(cp));
      i += width;
    } else {
      throw new StringLiteralError(`unknown escape sequence \\${esc}`);
    }
  }
  try {
    return UTF8.decode(new Uint8Array(bytes));
  } catch {
    // \xff and friends make byte strings that are no valid UTF-8. No shard name (valid UTF-8 by the
    // schema) can equal one, and Go's regexp refuses them; a lone surrogate keeps that apart.
    return INVALID_UTF8;
  }
}

function parseDigits(digits: string, radix: number, width: number): number {
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  if (digits.length !== width || !valid.test(digits)) throw new StringLiteralError('illegal character in escape sequence');
  return parseInt(digits, radix);
}

/** A label name as PromQL text: as is where it is a plain identifier, else quoted (PromQL 3's UTF-8 names). */
export function labelNameText(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : quote(name);
}

/** Encodes a value as a double-quoted PromQL string literal that `unquote` decodes back to it. */
export function quote(value: string): string {
  // JSON string syntax is a subset of Go's double-quoted syntax, except that JSON leaves U+2028/2029
  // and other characters unescaped, which Go accepts as they are.
  return JSON.stringify(value).replace(/\uFFFD/g, '\\ufffd');
}

// --- Go's quoting, as Prometheus's messages use it (`%q`) ---------------------------------------------

/** `strconv.Quote` (fmt's `%q` of a string); `%.Nq` with `maxRunes` (the first N characters only). */
export function goQuote(s: string, maxRunes = Infinity): string {
  let out = '"';
  let runes = 0;
  for (const ch of s) {
    if (runes++ >= maxRunes) break;
    out += goEscape(ch, '"');
  }
  return `${out}"`;
}

/** `strconv.QuoteRune` (fmt's `%q` of a rune): 'x', '\n', '\''; a negative rune (Go's EOF) is U+FFFD. */
export function goQuoteRune(r: number): string {
  return `'${goEscape(r < 0 ? '\uFFFD' : String.fromCodePoint(r), "'")}'`;
}

function goEscape(ch: string, quote: string): string {
  const cp = ch.codePointAt(0)!;
  if (ch === quote || ch === '\\') return `\\${ch}`;
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return named;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  // A lone surrogate: Go sees invalid UTF-8 and prints the replacement character.
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  if (isGoPrintable(ch)) return ch;
  return cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

const NAMED_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isGoPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}
