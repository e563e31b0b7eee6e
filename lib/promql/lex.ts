// The PromQL lexer, written after Prometheus's own (promql/parser/lex.go) state by state, so that
// tokens and lexical errors are Prometheus's: the same token boundaries, the same messages, at the
// same positions. Two releases are followed:
//   - dialect 2: Prometheus 2.42's lexer (the collectors' version here);
//   - dialect 3: Prometheus 3.14's lexer (numbers with underscores, duration arithmetic in brackets,
//     the keywords limitk, limit_ratio, anchored, smoothed, fill*, step, range, min_of, max_of, the
//     `</` and `>/` operators), which accepts every token 2.42 accepts; the union parser uses it.
// Positions are indexes into the JavaScript string; parse errors convert them to Prometheus's byte
// columns (see errors.ts).

import { goQuote, goQuoteRune } from './strings.ts';

export type Dialect = 2 | 3;

export type TokenType =
  | 'EOF' | 'ERROR' | 'COMMENT' | 'IDENTIFIER' | 'METRIC_IDENTIFIER' | 'NUMBER' | 'DURATION' | 'STRING'
  | 'LEFT_PAREN' | 'RIGHT_PAREN' | 'LEFT_BRACE' | 'RIGHT_BRACE' | 'LEFT_BRACKET' | 'RIGHT_BRACKET' | 'COMMA' | 'EQL' | 'COLON'
  // operators
  | 'ADD' | 'SUB' | 'MUL' | 'DIV' | 'MOD' | 'POW' | 'EQLC' | 'NEQ' | 'LTE' | 'LSS' | 'GTE' | 'GTR' | 'TRIM_UPPER' | 'TRIM_LOWER'
  | 'EQL_REGEX' | 'NEQ_REGEX' | 'AT' | 'LAND' | 'LOR' | 'LUNLESS' | 'ATAN2'
  // aggregators
  | 'AVG' | 'BOTTOMK' | 'COUNT' | 'COUNT_VALUES' | 'GROUP' | 'MAX' | 'MIN' | 'QUANTILE' | 'STDDEV' | 'STDVAR' | 'SUM' | 'TOPK'
  | 'LIMITK' | 'LIMIT_RATIO'
  // keywords
  | 'BOOL' | 'BY' | 'GROUP_LEFT' | 'GROUP_RIGHT' | 'FILL' | 'FILL_LEFT' | 'FILL_RIGHT' | 'IGNORING' | 'OFFSET' | 'SMOOTHED'
  | 'ANCHORED' | 'ON' | 'WITHOUT'
  // preprocessors
  | 'START' | 'END' | 'STEP' | 'RANGE' | 'MAX_OF' | 'MIN_OF';

export interface Token {
  readonly type: TokenType;
  readonly from: number;
  readonly to: number;
  /** The token's text; for ERROR tokens, the error message. */
  readonly text: string;
}

const KEYWORDS_2: Record<string, TokenType> = {
  and: 'LAND', or: 'LOR', unless: 'LUNLESS', atan2: 'ATAN2',
  sum: 'SUM', avg: 'AVG', count: 'COUNT', min: 'MIN', max: 'MAX', group: 'GROUP', stddev: 'STDDEV', stdvar: 'STDVAR',
  topk: 'TOPK', bottomk: 'BOTTOMK', count_values: 'COUNT_VALUES', quantile: 'QUANTILE',
  offset: 'OFFSET', by: 'BY', without: 'WITHOUT', on: 'ON', ignoring: 'IGNORING', group_left: 'GROUP_LEFT',
  group_right: 'GROUP_RIGHT', bool: 'BOOL', start: 'START', end: 'END',
  inf: 'NUMBER', nan: 'NUMBER',
};

const KEYWORDS_3: Record<string, TokenType> = {
  ...KEYWORDS_2,
  limitk: 'LIMITK', limit_ratio: 'LIMIT_RATIO', smoothed: 'SMOOTHED', anchored: 'ANCHORED',
  fill: 'FILL', fill_left: 'FILL_LEFT', fill_right: 'FILL_RIGHT',
  step: 'STEP', range: 'RANGE', max_of: 'MAX_OF', min_of: 'MIN_OF',
};

/** Words that 3.x reads as keywords inside brackets (`[step()*2]`). */
const DURATION_KEYWORDS: Record<string, TokenType> = { step: 'STEP', range: 'RANGE', max_of: 'MAX_OF', min_of: 'MIN_OF' };

const EOF = -1;
/** What Go's utf8.DecodeRuneInString reports for an undecodable (or a literal U+FFFD) character. */
const RUNE_ERROR = 0xfffd;

const isSpace = (r: number) => r === 0x20 || r === 0x09 || r === 0x0a || r === 0x0d;
const isEndOfLine = (r: number) => r === 0x0d || r === 0x0a;
const isDigit = (r: number) => r >= 0x30 && r <= 0x39;
const isAlpha = (r: number) => r === 0x5f || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a);
const isAlphaNumeric = (r: number) => isAlpha(r) || isDigit(r);
const contains = (set: string, r: number) => r !== EOF && r < 0x80 && set.includes(String.fromCharCode(r));

type State = (l: Lexer) => State | null;

/** A lexer over one query: `next()` returns its tokens one by one, comments included, then EOF. */
export class Lexer {
  private pos = 0;
  private start = 0;
  private width = 0;
  private state: State | null = lexStatements;
  private item: Token | null = null;

  parenDepth = 0;
  braceOpen = false;
  bracketOpen = false;
  gotColon = false;
  gotDuration = false;
  stringOpen = 0;

  constructor(readonly input: string, readonly dialect: Dialect) {}

  /** The next token; after an ERROR or EOF token, EOF forever. */
  next(): Token {
    this.item = null;
    if (this.state === null) {
      this.emit('EOF');
    } else {
      while (this.item === null && this.state !== null) this.state = this.state(this);
      if (this.item === null) this.emit('EOF');
    }
    return this.item!;
  }

  // --- Prometheus's lexer primitives --------------------------------------------------------------

  /** The next rune (a code point; a lone surrogate reads as U+FFFD, as invalid UTF-8 does in Go). */
  nextRune(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    let r = this.input.codePointAt(this.pos)!;
    this.width = r > 0xffff ? 2 : 1;
    if (r >= 0xd800 && r <= 0xdfff) r = RUNE_ERROR;
    this.pos += this.width;
    return r;
  }

  peek(): number {
    const r = this.nextRune();
    this.backup();
    return r;
  }

  backup(): void {
    this.pos -= this.width;
  }

  emit(type: TokenType): void {
    this.item = { type, from: this.start, to: this.pos, text: this.input.slice(this.start, this.pos) };
    this.start = this.pos;
  }

  ignore(): void {
    this.start = this.pos;
  }

  accept(valid: string): boolean {
    if (contains(valid, this.nextRune())) return true;
    this.backup();
    return false;
  }

  is(valid: string): boolean {
    return contains(valid, this.peek());
  }

  acceptRun(valid: string): void {
    while (contains(valid, this.nextRune()));
    this.backup();
  }

  errorf(message: string): null {
    this.item = { type: 'ERROR', from: this.start, to: this.input.length, text: message };
    return null;
  }

  get position(): number {
    return this.pos;
  }

  /** The text of the item being scanned. */
  scanned(): string {
    return this.input.slice(this.start, this.pos);
  }

  keywords(): Record<string, TokenType> {
    return this.dialect === 2 ? KEYWORDS_2 : KEYWORDS_3;
  }

  skipSpaces(): void {
    while (isSpace(this.peek())) this.nextRune();
    this.ignore();
  }

  /** Scans a number; false if what follows is not one (the caller then tries a duration). */
  scanNumber(): boolean {
    return this.dialect === 2 ? scanNumber2(this) : scanNumber3(this);
  }

  /** 3.x: `step`, `range`, `max_of`, `min_of` (any case) inside brackets. */
  scanDurationKeyword(): boolean {
    while (isAlpha(this.nextRune()));
    this.backup();
    const type = DURATION_KEYWORDS[this.scanned().toLowerCase()];
    if (type === undefined) return false;
    this.emit(type);
    return true;
  }

  /** Whether the next non-space character is `(` (fill, fill_left and fill_right are keywords only then). */
  followedByLeftParen(): boolean {
    for (let i = this.pos; i < this.input.length; i++) {
      const c = this.input.charCodeAt(i);
      if (!isSpace(c)) return c === 0x28;
    }
    return false;
  }
}

const q = goQuoteRune;

function lexStatements(l: Lexer): State | null {
  if (l.braceOpen) return lexInsideBraces;
  if (l.input.startsWith('#', l.position)) return lexLineComment;
  const r = l.nextRune();
  switch (true) {
    case r === EOF:
      if (l.parenDepth !== 0) return l.errorf('unclosed left parenthesis');
      if (l.bracketOpen) return l.errorf('unclosed left bracket');
      l.emit('EOF');
      return null;
    case r === 0x2c: l.emit('COMMA'); break;
    case isSpace(r): return lexSpace;
    case r === 0x2a: l.emit('MUL'); break;
    case r === 0x2f: l.emit('DIV'); break;
    case r === 0x25: l.emit('MOD'); break;
    case r === 0x2b: l.emit('ADD'); break;
    case r === 0x2d: l.emit('SUB'); break;
    case r === 0x5e: l.emit('POW'); break;
    case r === 0x3d: {
      const t = l.peek();
      if (t === 0x3d) {
        l.nextRune();
        l.emit('EQLC');
      } else if (t === 0x7e) {
        return l.errorf(`unexpected character after '=': ${q(t)}`);
      } else {
        l.emit('EQL');
      }
      break;
    }
    case r === 0x21: {
      const t = l.nextRune();
      if (t !== 0x3d) return l.errorf(`unexpected character after '!': ${q(t)}`);
      l.emit('NEQ');
      break;
    }
    case r === 0x3c: case r === 0x3e: {
      const t = l.peek();
      if (t === 0x3d) {
        l.nextRune();
        l.emit(r === 0x3c ? 'LTE' : 'GTE');
      } else if (t === 0x2f && l.dialect === 3) {
        l.nextRune();
        l.emit(r === 0x3c ? 'TRIM_UPPER' : 'TRIM_LOWER');
      } else {
        l.emit(r === 0x3c ? 'LSS' : 'GTR');
      }
      break;
    }
    case isDigit(r) || (r === 0x2e && isDigit(l.peek())):
      l.backup();
      return lexNumberOrDuration;
    case r === 0x22 || r === 0x27 || r === 0x60:
      return openString(l, r);
    case isAlpha(r) || r === 0x3a:
      if (!l.bracketOpen) {
        l.backup();
        return lexKeywordOrIdentifier;
      }
      if (l.dialect === 2) {
        // 2.42 reads any letter inside brackets as the subquery colon.
        if (l.gotColon) return l.errorf(`unexpected colon ${q(r)}`);
        l.emit('COLON');
        l.gotColon = true;
        break;
      }
      if (r === 0x3a) {
        if (l.gotColon) return l.errorf(`unexpected colon ${q(r)}`);
        l.emit('COLON');
        l.gotColon = true;
        break;
      }
      if ('srmSRM'.includes(String.fromCharCode(r)) && l.scanDurationKeyword()) break;
      return l.errorf(`unexpected character: ${q(r)}, expected ${q(0x3a)}`);
    case r === 0x28:
      l.emit('LEFT_PAREN');
      l.parenDepth++;
      break;
    case r === 0x29:
      l.emit('RIGHT_PAREN');
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf(`unexpected right parenthesis ${q(r)}`);
      break;
    case r === 0x7b:
      l.emit('LEFT_BRACE');
      l.braceOpen = true;
      return lexInsideBraces;
    case r === 0x5b:
      if (l.bracketOpen) return l.errorf(`unexpected left bracket ${q(r)}`);
      l.gotColon = false;
      l.emit('LEFT_BRACKET');
      if (isSpace(l.peek())) l.skipSpaces();
      l.bracketOpen = true;
      return l.dialect === 2 ? lexDuration : lexDurationExpr;
    case r === 0x5d:
      if (!l.bracketOpen) return l.errorf(`unexpected right bracket ${q(r)}`);
      l.emit('RIGHT_BRACKET');
      l.bracketOpen = false;
      break;
    case r === 0x40: l.emit('AT'); break;
    default:
      return l.errorf(`unexpected character: ${q(r)}`);
  }
  return lexStatements;
}

function lexInsideBraces(l: Lexer): State | null {
  if (l.input.startsWith('#', l.position)) return lexLineComment;
  const r = l.nextRune();
  switch (true) {
    case r === EOF: return l.errorf('unexpected end of input inside braces');
    case isSpace(r): return lexSpace;
    case isAlpha(r):
      l.backup();
      return lexIdentifier;
    case r === 0x2c: l.emit('COMMA'); break;
    case r === 0x22 || r === 0x27 || r === 0x60:
      return openString(l, r);
    case r === 0x3d:
      if (l.nextRune() === 0x7e) {
        l.emit('EQL_REGEX');
        break;
      }
      l.backup();
      l.emit('EQL');
      break;
    case r === 0x21: {
      const nr = l.nextRune();
      if (nr === 0x7e) l.emit('NEQ_REGEX');
      else if (nr === 0x3d) l.emit('NEQ');
      else return l.errorf(`unexpected character after '!' inside braces: ${q(nr)}`);
      break;
    }
    case r === 0x7b: return l.errorf(`unexpected left brace ${q(r)}`);
    case r === 0x7d:
      l.emit('RIGHT_BRACE');
      l.braceOpen = false;
      return lexStatements;
    default:
      return l.errorf(`unexpected character inside braces: ${q(r)}`);
  }
  return lexInsideBraces;
}

/** `%#U`: U+0071 'q', or U+000A alone for a character Go does not print. */
function goUnicode(r: number): string {
  const code = `U+${r.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(String.fromCodePoint(r)) ? `${code} '${String.fromCodePoint(r)}'` : code;
}

function digitVal(r: number): number {
  if (r >= 0x30 && r <= 0x39) return r - 0x30;
  if (r >= 0x61 && r <= 0x66) return r - 0x61 + 10;
  if (r >= 0x41 && r <= 0x46) return r - 0x41 + 10;
  return 16;
}

function lexEscape(l: Lexer): State | null {
  let ch = l.nextRune();
  let n: number;
  let base: number;
  let max: number;
  if ('abfnrtv\\'.includes(String.fromCodePoint(Math.max(ch, 0))) && ch !== EOF) return lexString;
  if (ch === l.stringOpen) return lexString;
  if (ch >= 0x30 && ch <= 0x37) {
    [n, base, max] = [3, 8, 255];
  } else if (ch === 0x78) {
    ch = l.nextRune();
    [n, base, max] = [2, 16, 255];
  } else if (ch === 0x75) {
    ch = l.nextRune();
    [n, base, max] = [4, 16, 0x10ffff];
  } else if (ch === 0x55) {
    ch = l.nextRune();
    [n, base, max] = [8, 16, 0x10ffff];
  } else if (ch === EOF) {
    return l.errorf('escape sequence not terminated');
  } else {
    return l.errorf(`unknown escape sequence ${goUnicode(ch)}`);
  }
  let x = 0;
  while (n > 0) {
    const d = digitVal(ch);
    if (d >= base) {
      if (ch === EOF) return l.errorf('escape sequence not terminated');
      return l.errorf(`illegal character ${goUnicode(ch)} in escape sequence`);
    }
    x = x * base + d;
    n--;
    if (n > 0) ch = l.nextRune();
  }
  if (x > max || (x >= 0xd800 && x < 0xe000)) return l.errorf('escape sequence is an invalid Unicode code point');
  return lexString;
}

/** `"` and `'` open a quoted string, `` ` `` a raw one. */
function openString(l: Lexer, quote: number): State {
  l.stringOpen = quote;
  return quote === 0x60 ? lexRawString : lexString;
}

function lexString(l: Lexer): State | null {
  for (;;) {
    const r = l.nextRune();
    if (r === 0x5c) return lexEscape;
    if (r === RUNE_ERROR) return l.errorf('invalid UTF-8 rune');
    if (r === EOF || r === 0x0a) return l.errorf('unterminated quoted string');
    if (r === l.stringOpen) break;
  }
  l.emit('STRING');
  return lexStatements;
}

function lexRawString(l: Lexer): State | null {
  for (;;) {
    const r = l.nextRune();
    if (r === RUNE_ERROR) return l.errorf('invalid UTF-8 rune');
    if (r === EOF) return l.errorf('unterminated raw string');
    if (r === l.stringOpen) break;
  }
  l.emit('STRING');
  return lexStatements;
}

function lexSpace(l: Lexer): State {
  while (isSpace(l.peek())) l.nextRune();
  l.ignore();
  return lexStatements;
}

function lexLineComment(l: Lexer): State {
  l.nextRune();
  for (let r = l.nextRune(); !isEndOfLine(r) && r !== EOF;) r = l.nextRune();
  l.backup();
  l.emit('COMMENT');
  return lexStatements;
}

/** 2.42: inside brackets only a duration (`[5m`); a subquery's step is lexed by lexStatements. */
function lexDuration(l: Lexer): State | null {
  if (l.scanNumber()) return l.errorf('missing unit character in duration');
  if (!acceptRemainingDuration(l)) return l.errorf(`bad duration syntax: ${goQuote(l.scanned())}`);
  l.backup();
  l.emit('DURATION');
  return lexStatements;
}

function lexNumberOrDuration(l: Lexer): State | null {
  if (l.scanNumber()) {
    l.emit('NUMBER');
    return lexStatements;
  }
  if (acceptRemainingDuration(l)) {
    l.backup();
    l.emit('DURATION');
    return lexStatements;
  }
  return l.errorf(`bad number or duration syntax: ${goQuote(l.scanned())}`);
}

function acceptRemainingDuration(l: Lexer): boolean {
  if (!l.accept('smhdwy')) return false;
  l.accept('s');
  while (l.accept('0123456789')) {
    while (l.accept('0123456789'));
    if (!l.accept('smhdw')) return false;
    l.accept('s');
  }
  return !isAlphaNumeric(l.nextRune());
}

/** 2.42: digits, an optional fraction and exponent, hexadecimal integers; no underscores. */
function scanNumber2(l: Lexer): boolean {
  let digits = '0123456789';
  if (l.accept('0') && l.accept('xX')) digits = '0123456789abcdefABCDEF';
  l.acceptRun(digits);
  if (l.accept('.')) l.acceptRun(digits);
  if (l.accept('eE')) {
    l.accept('+-');
    l.acceptRun('0123456789');
  }
  return !isAlphaNumeric(l.peek());
}

/** 3.x: Go's number syntax with underscores between digits, `1.`, `.5`, hexadecimal integers. */
function scanNumber3(l: Lexer): boolean {
  const initial = l.position;
  let digits = '0123456789';
  if (l.accept('0') && l.accept('xX')) {
    l.accept('_');
    digits = '0123456789abcdefABCDEF';
  }
  l.accept('.');
  l.accept(digits);
  let dotConsumed = false;
  let exponentConsumed = false;
  while (l.is(`${digits}._eE`)) {
    if (l.is('.') && dotConsumed) {
      l.accept('.');
      return false;
    }
    if (l.is('eE') && exponentConsumed) {
      l.accept('eE');
      return false;
    }
    if (l.accept('.')) {
      dotConsumed = true;
      if (l.accept('_.')) return false;
      // No fractional hexadecimal numbers.
      if (digits.length > 10) return false;
      continue;
    }
    if (l.accept('eE')) {
      // Also in a hexadecimal number, where 3.14 reads `e` as an exponent too (`0xee` does not lex).
      exponentConsumed = true;
      l.accept('+-');
      if (l.accept('._eE') || l.peek() === EOF) return false;
      continue;
    }
    if (l.accept('_')) {
      if (l.accept('._eE') || l.peek() === EOF) return false;
      continue;
    }
    l.acceptRun(digits);
  }
  if (l.position === initial) return false;
  return !isAlphaNumeric(l.peek());
}

function lexIdentifier(l: Lexer): State {
  while (isAlphaNumeric(l.nextRune()));
  l.backup();
  l.emit('IDENTIFIER');
  return lexStatements;
}

function lexKeywordOrIdentifier(l: Lexer): State {
  for (;;) {
    const r = l.nextRune();
    if (isAlphaNumeric(r) || r === 0x3a) continue;
    l.backup();
    break;
  }
  const word = l.scanned();
  const keyword = l.keywords()[word.toLowerCase()];
  if (keyword !== undefined) {
    const fill = keyword === 'FILL' || keyword === 'FILL_LEFT' || keyword === 'FILL_RIGHT';
    l.emit(fill && !l.followedByLeftParen() ? 'IDENTIFIER' : keyword);
  } else {
    l.emit(word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER');
  }
  return lexStatements;
}

/** 3.x: the first token inside brackets (a number, a duration, `(`, a sign, step(), ...). */
function lexDurationExpr(l: Lexer): State | null {
  const r = l.nextRune();
  switch (true) {
    case r === EOF: return l.errorf('unexpected end of input in duration expression');
    case r === 0x5d:
      l.emit('RIGHT_BRACKET');
      l.bracketOpen = false;
      l.gotColon = false;
      return lexStatements;
    case r === 0x3a:
      l.emit('COLON');
      if (!l.gotDuration) return l.errorf('unexpected colon before duration in duration expression');
      if (l.gotColon) return l.errorf('unexpected repeated colon in duration expression');
      l.gotColon = true;
      return lexDurationExpr;
    case r === 0x28:
      l.emit('LEFT_PAREN');
      l.parenDepth++;
      return lexDurationExpr;
    case r === 0x29:
      l.emit('RIGHT_PAREN');
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf(`unexpected right parenthesis ${q(r)}`);
      return lexDurationExpr;
    case isSpace(r):
      l.skipSpaces();
      return lexDurationExpr;
    case r === 0x2b: l.emit('ADD'); return lexDurationExpr;
    case r === 0x2d: l.emit('SUB'); return lexDurationExpr;
    case r === 0x2a: l.emit('MUL'); return lexDurationExpr;
    case r === 0x2f: l.emit('DIV'); return lexDurationExpr;
    case r === 0x25: l.emit('MOD'); return lexDurationExpr;
    case r === 0x5e: l.emit('POW'); return lexDurationExpr;
    case r === 0x2c: l.emit('COMMA'); return lexDurationExpr;
    case r !== EOF && 'srmSRM'.includes(String.fromCharCode(r)):
      if (l.scanDurationKeyword()) return lexDurationExpr;
      return l.errorf(`unexpected character in duration expression: ${q(r)}`);
    case isDigit(r) || (r === 0x2e && isDigit(l.peek())):
      l.backup();
      l.gotDuration = true;
      return lexNumberOrDuration;
    default:
      return l.errorf(`unexpected character in duration expression: ${q(r)}`);
  }
}

