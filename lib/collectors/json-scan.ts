// Reads a collector's query answer without building its object tree: one validating pass over the
// bytes (strict JSON, RFC 8259) that finds where the parts the router needs stand: the status, the
// result type, and for vectors and matrices each series' label set and samples. The answer can then be
// passed on with edits at those places (the shard label) or decoded straight into typed arrays. A
// tenth of the CPU of JSON.parse on large answers, and no garbage.

import { translatedLabels } from '../shards/shard-label-names.ts';

export class JsonSyntaxError extends Error {
  constructor(detail: string, readonly position: number) {
    super(`${detail} at byte ${position}`);
  }
}

/** Valid JSON that is not a query answer's shape (a series without labels, a label value that is a number). */
export class AnswerShapeError extends Error {}

/** A byte range [from, to). */
export interface Span {
  readonly from: number;
  readonly to: number;
}

export interface ScannedSeries {
  /** The series' label object, braces included. */
  readonly metric: Span;
  /**
   * Whether the label set has a member the shard label rule translates (the shard label, its
   * `original_` label, the name collectors attach it under: see lib/shard-label/edit.ts).
   */
  readonly translated: boolean;
  /** The `value` (vector) or `values` (matrix) member's value; null for series without float samples. */
  readonly samples: Span | null;
  /** Whether the scan found the samples in Prometheus's own compact shape, each pair checked; else the reader must check them. */
  readonly compact: boolean;
}

export interface ScannedAnswer {
  readonly status: string | null;
  readonly resultType: string | null;
  /** The `data.result` value. */
  readonly result: Span | null;
  /** How many elements the result has where it is a list (-1 where it is not). */
  readonly elements: number;
  /** The `data.stats` value, where the collector was asked for statistics (`stats=`). */
  readonly stats: Span | null;
  /** Vectors and matrices: their series in order. */
  readonly series: readonly ScannedSeries[];
  readonly warnings: readonly string[];
  readonly infos: readonly string[];
  readonly errorType: string | null;
  readonly error: string | null;
}

/** Deeper nesting than any Prometheus answer has: a JSON bomb, refused before it costs memory. */
const MAX_DEPTH = 64;

const enum C {
  Tab = 0x09, Newline = 0x0a, Return = 0x0d, Space = 0x20, Quote = 0x22, Plus = 0x2b, Comma = 0x2c, Minus = 0x2d,
  Dot = 0x2e, Slash = 0x2f, Zero = 0x30, One = 0x31, Nine = 0x39, Colon = 0x3a, BigE = 0x45, OpenBracket = 0x5b,
  Backslash = 0x5c, CloseBracket = 0x5d, LittleE = 0x65, OpenBrace = 0x7b, CloseBrace = 0x7d,
}

/**
 * Scans a query answer envelope. Throws JsonSyntaxError for anything that is not valid JSON or not an
 * object; the meaning (status, result type) is the caller's to judge.
 */
export function scanAnswer(body: Uint8Array, shardLabel: string): ScannedAnswer {
  const keys = translatedLabels(shardLabel).map((k) => Buffer.from(JSON.stringify(k)));
  return new Scanner(body, keys).answer();
}

class Scanner {
  private i = 0;
  private status: string | null = null;
  private resultType: string | null = null;
  private result: Span | null = null;
  private elements = -1;
  private stats: Span | null = null;
  private readonly series: ScannedSeries[] = [];
  private warnings: string[] = [];
  private infos: string[] = [];
  private errorType: string | null = null;
  private error: string | null = null;

  constructor(private readonly b: Uint8Array, private readonly translatedKeys: readonly Uint8Array[]) {}

  answer(): ScannedAnswer {
    this.object((key) => {
      switch (key) {
        case 'status': this.status = this.stringValue(); break;
        case 'data': this.data(); break;
        case 'warnings': this.warnings = this.strings(); break;
        case 'infos': this.infos = this.strings(); break;
        case 'errorType': this.errorType = this.stringValue(); break;
        case 'error': this.error = this.stringValue(); break;
        default: this.skipValue();
      }
    });
    this.space();
    if (this.i !== this.b.length) this.fail('data after the JSON value');
    return {
      status: this.status, resultType: this.resultType, result: this.result, elements: this.elements, stats: this.stats, series: this.series,
      warnings: this.warnings, infos: this.infos, errorType: this.errorType, error: this.error,
    };
  }

  private data(): void {
    this.space();
    if (this.b[this.i] !== C.OpenBrace) return this.skipValue();
    this.object((key) => {
      if (key === 'resultType') this.resultType = this.stringValue();
      else if (key === 'result') this.resultValue();
      else if (key === 'stats') this.statsValue();
      else this.skipValue();
    });
  }

  private resultValue(): void {
    this.space();
    const from = this.i;
    if (this.b[from] === C.OpenBracket) {
      this.i++;
      this.elements = 0;
      this.space();
      if (this.b[this.i] === C.CloseBracket) {
        this.i++;
      } else {
        for (;;) {
          this.elements++;
          this.element();
          this.space();
          const c = this.b[this.i++];
          if (c === C.CloseBracket) break;
          if (c !== C.Comma) this.fail('expected , or ] in the result');
        }
      }
    } else {
      this.skipValue();
    }
    this.result = { from, to: this.i };
  }

  private statsValue(): void {
    this.space();
    const from = this.i;
    this.skipValue();
    this.stats = { from, to: this.i };
  }

  /** An element of the result: a series object for vectors and matrices, a number or string for scalars. */
  private element(): void {
    this.space();
    if (this.b[this.i] !== C.OpenBrace) return this.skipValue();
    let metric: Span | null = null;
    let translated = false;
    let samples: Span | null = null;
    let compact = false;
    this.object((key) => {
      this.space();
      const from = this.i;
      if (key === 'metric') {
        if (this.b[from] !== C.OpenBrace) throw new AnswerShapeError('"metric" is not an object');
        translated = this.metric();
        metric = { from, to: this.i };
      } else if (key === 'value' || key === 'values') {
        compact = this.skipSamples();
        samples = { from, to: this.i };
      } else {
        this.skipValue();
      }
    });
    if (metric === null) throw new AnswerShapeError('a series without "metric"');
    this.series.push({ metric: metric!, translated, samples, compact });
  }

  /** A label object; returns whether it has a member the shard label rule translates. */
  private metric(): boolean {
    let found = false;
    this.i++; // {
    this.space();
    if (this.b[this.i] === C.CloseBrace) {
      this.i++;
      return false;
    }
    for (;;) {
      this.space();
      const from = this.i;
      this.skipString();
      if (!found) found = this.isTranslatedKey(from, this.i);
      this.colon();
      this.space();
      if (this.b[this.i] !== C.Quote) throw new AnswerShapeError('a label value is not a string');
      this.skipString();
      this.space();
      const c = this.b[this.i++];
      if (c === C.CloseBrace) return found;
      if (c !== C.Comma) this.fail('expected , or } in a label set');
    }
  }

  /** Whether the string at [from, to) is a translated label's name: written plainly, or with escapes. */
  private isTranslatedKey(from: number, to: number): boolean {
    const escaped = this.b.subarray(from, to).includes(C.Backslash) ? this.decode(from, to) : null;
    return this.translatedKeys.some((key) => escaped === null
      ? to - from === key.length && this.b.subarray(from, to).every((c, k) => c === key[k])
      : escaped === JSON.parse(Buffer.from(key).toString()));
  }

  /** Whether the bytes at the cursor are `key`; if so, the cursor moves past them. */
  private matches(key: Uint8Array): boolean {
    const { b, i } = this;
    if (i + key.length > b.length) return false;
    for (let k = 0; k < key.length; k++) if (b[i + k] !== key[k]) return false;
    this.i += key.length;
    return true;
  }

  /** Members of an object, `member` consuming each value (the cursor is on the value's first byte or space). */
  private object(member: (key: string) => void): void {
    this.space();
    if (this.b[this.i] !== C.OpenBrace) this.fail('expected an object');
    this.i++;
    this.space();
    if (this.b[this.i] === C.CloseBrace) {
      this.i++;
      return;
    }
    for (;;) {
      this.space();
      const from = this.i;
      this.skipString();
      const key = this.decode(from, this.i);
      this.colon();
      member(key);
      this.space();
      const c = this.b[this.i++];
      if (c === C.CloseBrace) return;
      if (c !== C.Comma) this.fail('expected , or } in an object');
    }
  }

  private stringValue(): string | null {
    this.space();
    if (this.b[this.i] !== C.Quote) {
      this.skipValue();
      return null;
    }
    const from = this.i;
    this.skipString();
    return this.decode(from, this.i);
  }

  private strings(): string[] {
    this.space();
    const from = this.i;
    this.skipValue();
    const value: unknown = JSON.parse(Buffer.from(this.b.buffer, this.b.byteOffset + from, this.i - from).toString('utf8'));
    return Array.isArray(value) ? value.filter((w): w is string => typeof w === 'string') : [];
  }

  private decode(from: number, to: number): string {
    return JSON.parse(Buffer.from(this.b.buffer, this.b.byteOffset + from, to - from).toString('utf8')) as string;
  }

  private colon(): void {
    this.space();
    if (this.b[this.i] !== C.Colon) this.fail('expected :');
    this.i++;
  }

  private space(): void {
    const { b } = this;
    let i = this.i;
    for (let c = b[i]; c === C.Space || c === C.Newline || c === C.Return || c === C.Tab; c = b[++i]);
    this.i = i;
  }

  /** Skips a string (the cursor on its opening quote), checking its escapes and that it has no raw control characters. */
  private skipString(): void {
    const { b } = this;
    let i = this.i;
    if (b[i] !== C.Quote) this.fail('expected a string');
    i++;
    for (;;) {
      const c = b[i++];
      if (c === C.Quote) break;
      if (c === C.Backslash) {
        const e = b[i++];
        if (e === 0x75) { // \uXXXX
          for (let k = 0; k < 4; k++, i++) if (!isHex(b[i])) this.fail('bad \\u escape');
        } else if (!(e === C.Quote || e === C.Backslash || e === C.Slash || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
          this.i = i - 1;
          this.fail('bad escape');
        }
      } else if (c === undefined || c < 0x20) {
        this.i = i - 1;
        this.fail(c === undefined ? 'unterminated string' : 'control character in a string');
      }
    }
    this.i = i;
  }

  private skipNumber(): void {
    const { b } = this;
    let i = this.i;
    if (b[i] === C.Minus) i++;
    if (b[i] === C.Zero) i++;
    else if (b[i]! >= C.One && b[i]! <= C.Nine) while (b[i]! >= C.Zero && b[i]! <= C.Nine) i++;
    else this.fail('bad number');
    if (b[i] === C.Dot) {
      i++;
      if (!(b[i]! >= C.Zero && b[i]! <= C.Nine)) this.fail('bad fraction');
      while (b[i]! >= C.Zero && b[i]! <= C.Nine) i++;
    }
    if (b[i] === C.LittleE || b[i] === C.BigE) {
      i++;
      if (b[i] === C.Plus || b[i] === C.Minus) i++;
      if (!(b[i]! >= C.Zero && b[i]! <= C.Nine)) this.fail('bad exponent');
      while (b[i]! >= C.Zero && b[i]! <= C.Nine) i++;
    }
    this.i = i;
  }

  /**
   * Skips a series' samples: Prometheus writes `[[1700000000.123,"1.5"],...]` (or one pair) without
   * spaces or escapes, which this checks (values included) and skips in one tight loop; anything else,
   * still valid JSON or not, is left to skipValue. Returns whether the compact shape was found.
   */
  private skipSamples(): boolean {
    const from = this.i;
    if (this.compactSamples()) return true;
    this.i = from;
    this.skipValue();
    return false;
  }

  private compactSamples(): boolean {
    const { b } = this;
    if (b[this.i] !== C.OpenBracket) return false;
    const list = b[this.i + 1] === C.OpenBracket || b[this.i + 1] === C.CloseBracket;
    if (!list) return this.compactPair();
    this.i++;
    if (b[this.i] === C.CloseBracket) {
      this.i++;
      return true;
    }
    for (;;) {
      if (!this.compactPair()) return false;
      const c = b[this.i++];
      if (c === C.CloseBracket) return true;
      if (c !== C.Comma) return false;
    }
  }

  /** `[<number>,"<sample value>"]` at the cursor, checked. */
  private compactPair(): boolean {
    const { b } = this;
    if (b[this.i] !== C.OpenBracket) return false;
    this.i++;
    const c = b[this.i];
    if (c !== C.Minus && !(c !== undefined && c >= C.Zero && c <= C.Nine)) return false;
    this.skipNumber();
    if (b[this.i] !== C.Comma || b[this.i + 1] !== C.Quote) return false;
    const end = sampleValueEnd(b, this.i + 2);
    if (end < 0 || b[end] !== C.Quote || b[end + 1] !== C.CloseBracket) return false;
    this.i = end + 2;
    return true;
  }

  /** Skips any value, checking it, without recursion: nesting is counted against MAX_DEPTH. */
  private skipValue(): void {
    const { b } = this;
    const closers: number[] = [];
    let expectValue = true;
    for (;;) {
      // A value's span ends at its last byte, never with the space after it.
      if (!expectValue && closers.length === 0) return;
      this.space();
      const c = b[this.i];
      if (expectValue) {
        expectValue = false;
        if (c === C.OpenBrace || c === C.OpenBracket) {
          if (closers.length === MAX_DEPTH) throw new AnswerShapeError(`nesting deeper than ${MAX_DEPTH} levels`);
          const close = c === C.OpenBrace ? C.CloseBrace : C.CloseBracket;
          closers.push(close);
          this.i++;
          this.space();
          if (b[this.i] === close) {
            closers.pop();
            this.i++;
          } else if (close === C.CloseBrace) {
            this.skipString();
            this.colon();
            expectValue = true;
          } else {
            expectValue = true;
          }
        } else if (c === C.Quote) {
          this.skipString();
        } else if (c === C.Minus || (c !== undefined && c >= C.Zero && c <= C.Nine)) {
          this.skipNumber();
        } else if (!this.literal()) {
          this.fail('unexpected character');
        }
        if (expectValue) continue;
      }
      if (closers.length === 0) return;
      this.space();
      const next = b[this.i];
      const close = closers[closers.length - 1]!;
      if (next === C.Comma) {
        this.i++;
        if (close === C.CloseBrace) {
          this.space();
          this.skipString();
          this.colon();
        }
        expectValue = true;
      } else if (next === close) {
        closers.pop();
        this.i++;
      } else {
        this.fail(`expected , or ${close === C.CloseBrace ? '}' : ']'}`);
      }
    }
  }

  private literal(): boolean {
    for (const word of LITERALS) {
      if (this.matches(word)) return true;
    }
    return false;
  }

  private fail(detail: string): never {
    throw new JsonSyntaxError(detail, this.i);
  }
}

const LITERALS = ['true', 'false', 'null'].map((w) => Buffer.from(w));
const SPECIAL_VALUES = ['NaN', '+Inf', '-Inf'].map((w) => Buffer.from(w));

/**
 * Where a sample value as Go formats floats ends (`-1.5`, `1e-07`, `NaN`, `+Inf`), or -1 where the text
 * at `i` is none: Number() reads every such text exactly.
 */
function sampleValueEnd(b: Uint8Array, i: number): number {
  for (const word of SPECIAL_VALUES) {
    if (word.every((c, k) => b[i + k] === c)) return i + word.length;
  }
  const digits = (at: number) => {
    let j = at;
    while (b[j]! >= C.Zero && b[j]! <= C.Nine) j++;
    return j;
  };
  let j = b[i] === C.Minus ? i + 1 : i;
  const intEnd = digits(j);
  if (intEnd === j) return -1;
  j = intEnd;
  if (b[j] === C.Dot) {
    const fracEnd = digits(j + 1);
    if (fracEnd === j + 1) return -1;
    j = fracEnd;
  }
  if (b[j] === C.LittleE || b[j] === C.BigE) {
    j++;
    if (b[j] === C.Plus || b[j] === C.Minus) j++;
    const expEnd = digits(j);
    if (expEnd === j) return -1;
    j = expEnd;
  }
  return j;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
