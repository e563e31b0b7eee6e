// The PromQL parser: recursive descent with precedence climbing, written after Prometheus's yacc
// grammar (promql/parser/generated_parser.y) and the actions in parse.go, so that it reads every query
// as Prometheus does and refuses it with Prometheus's words where Prometheus refuses it.
//
// Why not @prometheus-io/lezer-promql, which the router used before: it is PromQL 3's grammar with
// the function names written into it (2.x's holt_winters was a syntax error), it refused number
// literals Go accepts (`1.`, `2.`), its LR tables have fixed limits that refused long valid queries
// (`or` chains of a few hundred selectors) with a misleading parse error, and it bound `a - b offset
// 1h` as `(a - b) offset 1h` where Prometheus binds the modifier to `b`.
//
// Precedence and associativity are the grammar's %left/%right/%nonassoc and %prec: `or` < `and`,
// `unless` < comparisons < `+ -` < `* / % atan2` (and unary minus, %prec MUL) < `^` (right
// associative, so `-2^2` is -4) < the postfix modifiers `[range]`, `[range:step]`, `offset`, `@`,
// `anchored`, `smoothed`, which bind to the expression just before them (`a - b offset 1h` is
// `a - (b offset 1h)`).
//
// Dialects: 'union' (default) accepts what 2.42 or 3.14 accepts, leaving function names to the
// checker; 2 and 3 are those releases' parsers exactly, errors and messages included, for the
// checker's version verdicts and for the differential tests against a real Prometheus.
import {
  children, fills, goRound, type AggregateExpr, type AggregateOp, type At, type BinaryOp, type Cardinality, type DurationExpr,
  type DurationValue, type Expr, type Grouping, type NumberLiteral, type Offset, type Query, type SelectorMatcher,
  type Span, type VectorMatching, type VectorSelector,
} from './ast.ts';
import { functionOf, inEveryMajor } from './function-table.ts';
import { Lexer, type Dialect, type Token, type TokenType } from './lex.ts';
import { durationOutOfRange, parseDuration, parseNumber } from './literals.ts';
import { regexError, type MatchOp } from './matchers.ts';
import { goQuote, StringLiteralError, unquote } from './strings.ts';


/**
 * How deep a query may nest (parentheses, calls, operators: a chain `a or b or c` is as deep as it is
 * long). Every stage walks the tree; this keeps the deepest far below what each handles on a freshly
 * started process (measured by test/promql/depth.test.ts; see README.md).
 */
export const MAX_DEPTH = 1000;

/** A query that does not parse; `message` is formatted like Prometheus's own parse errors. */
export class PromQLSyntaxError extends Error {
  constructor(readonly position: number, readonly detail: string, text: string, dialect: ParseDialect = 'union') {
    super(`${positionText(text, position, dialect)}: parse error: ${detail}`);
  }
}

/** A query nesting deeper than MAX_DEPTH: the router's limit, not a syntax error (a 400 all the same). */
export class QueryTooDeepError extends PromQLSyntaxError {
  constructor(position: number, text: string) {
    super(position, `the query nests deeper than ${MAX_DEPTH} levels, the router's limit`, text);
    this.message = `${this.detail} (at ${positionText(text, position, 'union')})`;
  }
}

/** Prometheus's "line:column", both 1-based, the column in bytes of UTF-8 as Go counts them. */
export function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return `${line}:${utf8Length(before.slice(lineStart)) + 1}`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function positionText(text: string, position: number, dialect: ParseDialect): string {
  // 3.x's posrange says "unknown position" for the empty query; 2.42 says 1:1.
  if (text === '' && dialect === 3) return 'unknown position';
  return lineAndColumn(text, position);
}


export type ParseDialect = 'union' | Dialect;

/** 3.x's experimental features (parser.Options): off unless enabled, as in Prometheus. */
export interface Experimental {
  /** --enable-feature=promql-experimental-functions: experimental functions, limitk, limit_ratio. */
  readonly functions?: boolean;
  /** --enable-feature=promql-duration-expr: duration arithmetic, step(), range(), min_of(), max_of(). */
  readonly durationExpressions?: boolean;
  /** --enable-feature=promql-extended-range-selectors: anchored and smoothed. */
  readonly extendedRangeSelectors?: boolean;
  /** --enable-feature=promql-binop-fill-modifiers: fill(), fill_left(), fill_right(). */
  readonly binopFill?: boolean;
}

export const ALL_EXPERIMENTAL: Experimental = {
  functions: true, durationExpressions: true, extendedRangeSelectors: true, binopFill: true,
};

export interface ParseOptions {
  readonly dialect?: ParseDialect;
  /** Dialect 3 only. */
  readonly experimental?: Experimental;
}

/** Parses a query; throws PromQLSyntaxError (or QueryTooDeepError) with Prometheus's first error. */
export function parseQuery(text: string, options: ParseOptions = {}): Query {
  try {
    return new Parser(text, options).parse();
  } catch (err) {
    // What the union refuses, both majors refuse: say it as 2.42 (the collectors' version) does.
    if ((options.dialect ?? 'union') !== 'union' || !(err instanceof PromQLSyntaxError) || err instanceof QueryTooDeepError) throw err;
    new Parser(text, { dialect: 2 }).parse();
    throw err;
  }
}

/** The expression of a query in the union dialect. */
export function parsePromQL(text: string): Expr {
  return parseQuery(text).expr;
}

/** Thrown inside the parser to stop at a syntax error (the error itself is in `errors`). */
const ABORT = Symbol('abort');

interface ParseError {
  readonly position: number;
  readonly message: string;
}

/** Binary operators: precedence (the grammar's %left lines, 1 lowest) and PromQL spelling. */
const BINARY: Partial<Record<TokenType, { readonly prec: number; readonly op: BinaryOp }>> = {
  LOR: { prec: 1, op: 'or' },
  LAND: { prec: 2, op: 'and' },
  LUNLESS: { prec: 2, op: 'unless' },
  EQLC: { prec: 3, op: '==' },
  NEQ: { prec: 3, op: '!=' },
  GTR: { prec: 3, op: '>' },
  LSS: { prec: 3, op: '<' },
  GTE: { prec: 3, op: '>=' },
  LTE: { prec: 3, op: '<=' },
  TRIM_UPPER: { prec: 3, op: '</' },
  TRIM_LOWER: { prec: 3, op: '>/' },
  ADD: { prec: 4, op: '+' },
  SUB: { prec: 4, op: '-' },
  MUL: { prec: 5, op: '*' },
  DIV: { prec: 5, op: '/' },
  MOD: { prec: 5, op: '%' },
  ATAN2: { prec: 5, op: 'atan2' },
  POW: { prec: 6, op: '^' },
};
const POW_PREC = 6;
/** The operators of duration arithmetic (3.x), with the precedence of the expression operators. */
const DURATION_OPERATORS = new Set<TokenType>(['ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW']);

const AGGREGATORS: Partial<Record<TokenType, AggregateOp>> = {
  AVG: 'avg', BOTTOMK: 'bottomk', COUNT: 'count', COUNT_VALUES: 'count_values', GROUP: 'group', MAX: 'max', MIN: 'min',
  QUANTILE: 'quantile', STDDEV: 'stddev', STDVAR: 'stdvar', SUM: 'sum', TOPK: 'topk', LIMITK: 'limitk',
  LIMIT_RATIO: 'limit_ratio',
};
const PARAMETERISED = new Set<AggregateOp>(['topk', 'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio']);

/** Keywords that also name metrics where an expression starts (the grammar's metric_identifier). */
const METRIC_KEYWORDS = new Set<TokenType>([
  'BY', 'WITHOUT', 'LAND', 'LOR', 'LUNLESS', 'OFFSET', 'START', 'END', 'FILL', 'FILL_LEFT', 'FILL_RIGHT', 'STEP', 'RANGE',
  'ANCHORED', 'SMOOTHED', 'MAX_OF', 'MIN_OF',
]);

/** Keywords that are label names in grouping clauses (the grammar's maybe_label). */
const LABEL_KEYWORDS = new Set<TokenType>([
  ...Object.keys(AGGREGATORS) as TokenType[], 'BOOL', 'BY', 'GROUP_LEFT', 'GROUP_RIGHT', 'FILL', 'FILL_LEFT', 'FILL_RIGHT',
  'IDENTIFIER', 'IGNORING', 'LAND', 'LOR', 'LUNLESS', 'METRIC_IDENTIFIER', 'OFFSET', 'ON', 'START', 'END', 'ATAN2', 'STEP',
  'RANGE', 'ANCHORED', 'SMOOTHED', 'MAX_OF', 'MIN_OF',
]);

const EXPRESSION_STARTS = new Set<TokenType>([
  'NUMBER', 'STRING', 'LEFT_PAREN', 'LEFT_BRACE', 'IDENTIFIER', 'METRIC_IDENTIFIER', 'ADD', 'SUB',
]);

const MATCH_OPS: Partial<Record<TokenType, MatchOp>> = { EQL: '=', NEQ: '!=', EQL_REGEX: '=~', NEQ_REGEX: '!~' };

const KEYWORD_TYPES = new Set<TokenType>([
  'BOOL', 'BY', 'GROUP_LEFT', 'GROUP_RIGHT', 'FILL', 'FILL_LEFT', 'FILL_RIGHT', 'IGNORING', 'OFFSET', 'SMOOTHED', 'ANCHORED',
  'ON', 'WITHOUT',
]);
const OPERATOR_TYPES = new Set<TokenType>([
  'ADD', 'DIV', 'EQLC', 'EQL_REGEX', 'GTE', 'GTR', 'TRIM_UPPER', 'TRIM_LOWER', 'LAND', 'LOR', 'LSS', 'LTE', 'LUNLESS', 'MOD',
  'MUL', 'NEQ', 'NEQ_REGEX', 'POW', 'SUB', 'AT', 'ATAN2',
]);
/** Token types Prometheus's ItemTypeStr names: described by their text alone. */
const NAMED_TYPES = new Set<TokenType>([
  'LEFT_PAREN', 'RIGHT_PAREN', 'LEFT_BRACE', 'RIGHT_BRACE', 'LEFT_BRACKET', 'RIGHT_BRACKET', 'COMMA', 'EQL', 'COLON',
  ...KEYWORD_TYPES, ...OPERATOR_TYPES, ...Object.keys(AGGREGATORS) as TokenType[], 'START', 'END', 'STEP', 'RANGE', 'MAX_OF',
  'MIN_OF',
]);
const TYPE_WORDS: Partial<Record<TokenType, string>> = {
  IDENTIFIER: 'identifier', METRIC_IDENTIFIER: 'metric identifier', STRING: 'string', NUMBER: 'number', DURATION: 'duration',
};

/** Prometheus's Item.desc(): how "unexpected ..." names a token. */
function describe(t: Token, dialect: ParseDialect): string {
  if (t.type === 'EOF') return 'end of input';
  const text = itemString(t);
  // 2.42's ItemTypeStr lacks `@`: its type prints as its number in the generated parser.
  if (t.type === 'AT' && dialect !== 3) return `"<Item 57385>" ${text}`;
  if (NAMED_TYPES.has(t.type)) return text;
  return `${TYPE_WORDS[t.type] ?? t.type.toLowerCase()} ${text}`;
}

function itemString(t: Token): string {
  if (t.type === 'IDENTIFIER' || t.type === 'METRIC_IDENTIFIER') return goQuote(t.text);
  if (KEYWORD_TYPES.has(t.type)) return `<${t.text}>`;
  if (OPERATOR_TYPES.has(t.type)) return `<op:${t.text}>`;
  if (t.type in AGGREGATORS) return `<aggr:${t.text}>`;
  if (new TextEncoder().encode(t.text).length > 10) return `${goQuote(t.text, 10)}...`;
  return goQuote(t.text);
}

/** What an error production says after "unexpected X": where, and what was expected there. */
type Context = readonly [where: string, expected: string];

/** Mutable while the parser assembles a node; the tree it returns is read-only. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Parser {
  private readonly lexer: Lexer;
  private readonly dialect: ParseDialect;
  private readonly experimental: Experimental;
  private lookahead: Token | null = null;
  /** The last token taken. */
  private previous: Token | null = null;
  private readonly errors: ParseError[] = [];
  /** Aggregations whose arguments or grouping are being read: a syntax error there is "in aggregation". */
  private aggregations = 0;
  private depth = 0;
  private dialectSensitive = false;

  constructor(private readonly text: string, options: ParseOptions) {
    this.dialect = options.dialect ?? 'union';
    this.experimental = this.dialect === 3 ? options.experimental ?? {} : ALL_EXPERIMENTAL;
    this.lexer = new Lexer(text, this.dialect === 2 ? 2 : 3);
  }

  parse(): Query {
    let expr: Expr | null = null;
    try {
      if (this.peek().type === 'EOF') {
        this.error(0, 'no expression found in input');
      } else {
        expr = this.expression(0);
        if (this.peek().type !== 'EOF') this.unexpected();
      }
    } catch (err) {
      if (err !== ABORT) throw err;
    }
    const first = this.errors[0];
    if (first !== undefined) {
      if (first.message === TOO_DEEP) throw new QueryTooDeepError(first.position, this.text);
      throw new PromQLSyntaxError(first.position, first.message, this.text, this.dialect);
    }
    checkHeight(expr!, this.text);
    return { text: this.text, expr: expr!, dialectSensitive: this.dialectSensitive };
  }

  // --- tokens and errors ---------------------------------------------------------------------------

  private peek(): Token {
    if (this.lookahead === null) {
      let t = this.lexer.next();
      while (t.type === 'COMMENT') t = this.lexer.next();
      if (t.type === 'ERROR') {
        this.errors.push({ position: t.from, message: t.text });
        throw ABORT;
      }
      this.lookahead = t;
    }
    return this.lookahead;
  }

  private take(): Token {
    const t = this.peek();
    this.lookahead = null;
    this.previous = t;
    return t;
  }

  private expect(type: TokenType, context?: Context): Token {
    if (this.peek().type !== type) this.unexpected(context);
    return this.take();
  }

  /** A semantic error: recorded, parsing goes on (Prometheus reports the first error). */
  private error(position: number, message: string): void {
    this.errors.push({ position, message });
  }

  /** A syntax error at the lookahead token, worded by the innermost error production. */
  private unexpected(context?: Context): never {
    const [where, expected] = context ?? (this.aggregations > 0 ? ['aggregation', ''] : ['', '']);
    const t = this.peek();
    let message = `unexpected ${describe(t, this.dialect)}`;
    if (where !== '') message += ` in ${where}`;
    if (expected !== '') message += `, expected ${expected}`;
    this.error(t.from, message);
    throw ABORT;
  }

  /** Syntax only PromQL 3 has: the union parser notes that the 2.x verdict needs the 2.x parser. */
  private sensitive(): void {
    this.dialectSensitive = true;
  }

  private enter(at: number): void {
    if (++this.depth > MAX_DEPTH) {
      this.errors.length = 0;
      this.error(at, TOO_DEEP);
      throw ABORT;
    }
  }

  private leave(): void {
    this.depth--;
  }

  private end(): number {
    return this.previous!.to;
  }

  // --- expressions ---------------------------------------------------------------------------------

  /** An expression whose binary operators all bind at least as tightly as `minPrec`. */
  private expression(minPrec: number): Expr {
    // Nesting recurses through here: as few frames per level as can be (see MAX_DEPTH).
    const first = this.peek().type;
    let lhs = first === 'ADD' || first === 'SUB' ? this.unary() : this.postfix(this.primary());
    for (;;) {
      const t = this.peek();
      const binary = BINARY[t.type];
      if (binary === undefined || binary.prec < minPrec) return lhs;
      this.take();
      if (t.type === 'TRIM_UPPER' || t.type === 'TRIM_LOWER') this.sensitive();
      const modifiers = this.binaryModifiers(binary.op);
      this.enter(t.from);
      // `^` is right associative: its right side may hold another `^`.
      const rhs = this.expression(binary.op === '^' ? binary.prec : binary.prec + 1);
      this.leave();
      const fill = fills(modifiers.matching);
      if (fill && !this.experimental.binopFill) this.error(lhs.from, 'binop fill modifiers are experimental and not enabled');
      lhs = {
        kind: 'binary', op: binary.op, opSpan: { from: t.from, to: t.to }, lhs, rhs, bool: modifiers.bool,
        matching: modifiers.matching, from: lhs.from, to: rhs.to,
      };
    }
  }

  private binaryModifiers(op: BinaryOp): { bool: boolean; matching: VectorMatching } {
    let bool = false;
    if (this.peek().type === 'BOOL') {
      this.take();
      bool = true;
    }
    let card: Cardinality = 'one-to-one';
    let on = false;
    let labels: Grouping | null = null;
    let include: Grouping | null = null;
    const t = this.peek();
    if (t.type === 'ON' || t.type === 'IGNORING') {
      this.take();
      on = t.type === 'ON';
      labels = this.groupingLabels();
      const group = this.peek();
      if (group.type === 'GROUP_LEFT' || group.type === 'GROUP_RIGHT') {
        this.take();
        card = group.type === 'GROUP_LEFT' ? 'many-to-one' : 'one-to-many';
        // Optional labels: `(` opens them; anything else must start the right-hand side.
        const next = this.peek().type;
        if (next === 'LEFT_PAREN' || !this.startsExpression(next)) include = this.groupingLabels();
      }
    }
    // checkAST: set operators match many-to-many unless grouped (which it then refuses).
    if ((op === 'and' || op === 'or' || op === 'unless') && card === 'one-to-one') card = 'many-to-many';
    let fillLeft: number | null = null;
    let fillRight: number | null = null;
    const fill = this.peek();
    if (fill.type === 'FILL') {
      this.take();
      fillLeft = fillRight = this.fillValue();
    } else if (fill.type === 'FILL_LEFT' || fill.type === 'FILL_RIGHT') {
      this.take();
      const value = this.fillValue();
      if (fill.type === 'FILL_LEFT') fillLeft = value;
      else fillRight = value;
      const other = fill.type === 'FILL_LEFT' ? 'FILL_RIGHT' : 'FILL_LEFT';
      if (this.peek().type === other) {
        this.take();
        const second = this.fillValue();
        if (other === 'FILL_LEFT') fillLeft = second;
        else fillRight = second;
      }
    }
    if (fill.type === 'FILL' || fill.type === 'FILL_LEFT' || fill.type === 'FILL_RIGHT') this.sensitive();
    return {
      bool,
      matching: {
        card, on, labels: labels?.labels ?? [], include: include?.labels ?? [], fillLeft, fillRight,
        labelSpans: labels?.labelSpans ?? [], includeSpans: include?.labelSpans ?? [],
      },
    };
  }

  /** `(1)`, `(-1)`, `(5m)`: fill()'s value. */
  private fillValue(): number {
    this.expect('LEFT_PAREN');
    let sign = 1;
    const t = this.peek();
    if (t.type === 'ADD' || t.type === 'SUB') {
      this.take();
      if (t.type === 'SUB') sign = -1;
    }
    const literal = this.numberOrDuration();
    this.expect('RIGHT_PAREN');
    return sign * literal.value;
  }

  /** `(a, "b", c)` after by/without/on/ignoring/group_left/group_right. */
  private groupingLabels(): Grouping {
    const open = this.peek();
    if (open.type !== 'LEFT_PAREN') this.unexpected(['grouping opts', '"("']);
    this.take();
    const labels: string[] = [];
    const labelSpans: Span[] = [];
    if (this.peek().type === 'RIGHT_PAREN') {
      this.take();
      return { without: false, labels, labelSpans, from: open.from, to: this.end() };
    }
    for (;;) {
      const { from, to } = this.peek();
      labels.push(this.groupingLabel());
      labelSpans.push({ from, to });
      const t = this.peek();
      if (t.type === 'COMMA') {
        this.take();
        if (this.peek().type === 'RIGHT_PAREN') break;
        continue;
      }
      if (t.type !== 'RIGHT_PAREN') this.unexpected(['grouping opts', '"," or ")"']);
      break;
    }
    this.take();
    return { without: false, labels, labelSpans, from: open.from, to: this.end() };
  }

  private groupingLabel(): string {
    const t = this.peek();
    if (t.type === 'STRING' && this.dialect !== 2) {
      this.take();
      this.sensitive();
      const name = this.unquote(t);
      if (name === '') this.error(t.from, `invalid label name for grouping: ${goQuote(name)}`);
      return name;
    }
    if (!LABEL_KEYWORDS.has(t.type)) this.unexpected(['grouping opts', 'label']);
    if (t.type === 'METRIC_IDENTIFIER') {
      // 2.42 wants a Prometheus label name; 3.x takes any UTF-8 name.
      if (this.dialect === 2) this.unexpected(['grouping opts', 'label']);
      this.sensitive();
    }
    this.take();
    return t.text;
  }

  /** A sign and its operand (the caller has seen the sign). */
  private unary(): Expr {
    const t = this.take();
    this.enter(t.from);
    // %prec MUL: the operand takes only `^` and postfix modifiers with it (`-a * b` is (-a) * b).
    const operand = this.expression(POW_PREC);
    this.leave();
    if (operand.kind === 'number') {
      return { ...operand, value: t.type === 'SUB' ? -operand.value : operand.value, from: t.from };
    }
    return { kind: 'unary', op: t.type === 'SUB' ? '-' : '+', expr: operand, from: t.from, to: operand.to };
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case 'NUMBER': case 'DURATION':
        // A duration is a number (of seconds) in 3.x only.
        if (t.type === 'DURATION' && this.dialect === 2) this.unexpected();
        if (t.type === 'DURATION') this.sensitive();
        return this.numberOrDuration();
      case 'STRING':
        this.take();
        return { kind: 'string', value: this.unquote(t), from: t.from, to: t.to };
      case 'LEFT_PAREN': {
        this.take();
        this.enter(t.from);
        const inner = this.expression(0);
        this.leave();
        this.expect('RIGHT_PAREN');
        return { kind: 'paren', expr: inner, from: t.from, to: this.end() };
      }
      case 'LEFT_BRACE':
        return this.vectorSelector(null);
      case 'IDENTIFIER':
        this.take();
        if (this.peek().type === 'LEFT_PAREN') return this.call(t, this.callArguments(this.take()));
        return this.vectorSelector(t);
      case 'METRIC_IDENTIFIER':
        this.take();
        return this.vectorSelector(t);
      default:
        break;
    }
    const op = AGGREGATORS[t.type];
    if (op !== undefined) {
      this.take();
      const next = this.peek().type;
      if (next === 'LEFT_PAREN' || next === 'BY' || next === 'WITHOUT') return this.aggregate(t, op);
      return this.vectorSelector(t);
    }
    if (METRIC_KEYWORDS.has(t.type)) {
      this.take();
      // 3.x: start(), end(), step(), range(), min_of(), max_of() are (experimental) functions.
      const callable = t.type === 'START' || t.type === 'END' || t.type === 'STEP' || t.type === 'RANGE' || t.type === 'MAX_OF' || t.type === 'MIN_OF';
      if (callable && this.dialect !== 2 && this.peek().type === 'LEFT_PAREN') return this.call(t, this.callArguments(this.take()));
      return this.vectorSelector(t);
    }
    return this.unexpected();
  }

  /** A NUMBER or (3.x) DURATION token as a number literal. */
  private numberOrDuration(): NumberLiteral {
    const t = this.peek();
    if (t.type === 'NUMBER') {
      this.take();
      if (this.dialect === 'union' && !PLAIN_NUMBER.test(t.text)) this.sensitive();
      const n = parseNumber(t.text);
      if (n.error !== undefined) this.error(t.from, n.error);
      return { kind: 'number', value: n.value ?? 0, duration: false, from: t.from, to: t.to };
    }
    if (t.type !== 'DURATION' || this.dialect === 2) this.unexpected();
    this.take();
    return { kind: 'number', value: this.durationValue(t), duration: true, from: t.from, to: t.to };
  }

  /** A DURATION token's seconds; 2.42 refuses 0 wherever it takes a duration. */
  private durationValue(t: Token): number {
    const d = parseDuration(t.text, this.dialect === 2 ? 2 : 3);
    if (d.error !== undefined) this.error(t.from, d.error);
    else if (d.value === 0 && this.dialect === 2) this.error(t.from, 'duration must be greater than 0');
    else if (d.value === 0) this.sensitive();
    return d.value ?? 0;
  }

  private unquote(t: Token): string {
    try {
      return unquote(t.text);
    } catch (err) {
      // The lexer has checked every escape: this is unreachable, but keep Prometheus's wording.
      if (err instanceof StringLiteralError) this.error(t.from, `error unquoting string ${goQuote(t.text)}: ${err.message}`);
      return '';
    }
  }

  /** A function call, its arguments read (the parser's depth does not pass through here). */
  private call(name: Token, args: Expr[]): Expr {
    if (this.dialect !== 'union') {
      const major = this.dialect;
      const f = functionOf(name.text, major);
      if (f === undefined) this.error(name.from, `unknown function with name ${goQuote(name.text)}`);
      else if (major === 3 && f.experimental && !this.experimental.functions) this.error(name.from, `function ${goQuote(name.text)} is not enabled`);
    } else if (!inEveryMajor(name.text)) {
      this.sensitive();
    }
    return { kind: 'call', name: name.text, args, from: name.from, to: this.end() };
  }

  /** `(a, b, ...)`, the `(` already taken. */
  private callArguments(open: Token): Expr[] {
    const args: Expr[] = [];
    this.enter(open.from);
    if (this.peek().type === 'RIGHT_PAREN') {
      this.take();
      this.leave();
      return args;
    }
    for (;;) {
      args.push(this.expression(0));
      const t = this.peek();
      if (t.type === 'COMMA') {
        this.take();
        // Whatever cannot start an argument makes the comma a trailing one, `)` or not.
        if (this.startsExpression(this.peek().type)) continue;
        this.error(t.from, 'trailing commas not allowed in function call args');
      }
      if (this.peek().type !== 'RIGHT_PAREN') this.unexpected();
      break;
    }
    this.take();
    this.leave();
    return args;
  }

  private startsExpression(type: TokenType): boolean {
    if (type === 'DURATION') return this.dialect !== 2;
    return EXPRESSION_STARTS.has(type) || type in AGGREGATORS || METRIC_KEYWORDS.has(type);
  }

  private aggregate(opToken: Token, op: AggregateOp): Expr {
    if (op === 'limitk' || op === 'limit_ratio') this.sensitive();
    this.aggregations++;
    let grouping: Grouping | null = null;
    let args: Expr[];
    const modifierFirst = this.peek().type !== 'LEFT_PAREN';
    if (modifierFirst) {
      grouping = this.aggregateModifier();
      const open = this.peek();
      if (open.type !== 'LEFT_PAREN') this.unexpected();
      this.take();
      args = this.callArguments(open);
    } else {
      args = this.callArguments(this.take());
    }
    this.aggregations--;
    // Prometheus checks the arguments when it reduces the rule: at once after `by (...) (...)`, after
    // reading the next token when a trailing `by (...)` could follow.
    if (modifierFirst) this.aggregateArguments(opToken, op, args);
    else if (this.peek().type === 'BY' || this.peek().type === 'WITHOUT') {
      grouping = this.aggregateModifier();
      this.aggregateArguments(opToken, op, args);
    } else {
      this.aggregateArguments(opToken, op, args);
    }
    const param = PARAMETERISED.has(op) ? args[0] ?? null : null;
    const expr = args[args.length - 1] ?? { kind: 'number', value: 0, duration: false, from: opToken.from, to: opToken.from };
    const node: AggregateExpr = { kind: 'aggregate', op, grouping, param, expr, from: opToken.from, to: this.end() };
    return node;
  }

  private aggregateModifier(): Grouping {
    const t = this.take();
    const labels = this.groupingLabels();
    return { ...labels, without: t.type === 'WITHOUT', from: t.from };
  }

  private aggregateArguments(opToken: Token, op: AggregateOp, args: readonly Expr[]): void {
    if (args.length === 0) {
      this.error(opToken.from, 'no arguments for aggregate expression provided');
      return;
    }
    const wanted = PARAMETERISED.has(op) ? 2 : 1;
    if ((op === 'limitk' || op === 'limit_ratio') && this.dialect === 3 && !this.experimental.functions) {
      this.error(opToken.from, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
      return;
    }
    if (args.length !== wanted) {
      this.error(opToken.from, `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`);
    }
  }

  private vectorSelector(name: Token | null): VectorSelector {
    const matchers: SelectorMatcher[] = [];
    let metricName = name?.text ?? null;
    let nameSpan: Span | null = name === null ? null : { from: name.from, to: name.to };
    let braces: Span | null = null;
    if (this.peek().type === 'LEFT_BRACE') {
      const open = this.take();
      const inner = this.labelMatchers();
      braces = { from: open.from, to: this.end() };
      matchers.push(...inner.matchers);
      if (inner.quotedName !== null) {
        // {"up"} names the metric; next to a name before the braces, checkAST calls it set twice.
        if (metricName === null) {
          metricName = inner.quotedName.value;
          nameSpan = { from: inner.quotedName.from, to: inner.quotedName.to };
        } else {
          matchers.splice(inner.quotedName.index, 0, {
            name: '__name__', op: '=', value: inner.quotedName.value, from: inner.quotedName.from, to: inner.quotedName.to,
          });
        }
      }
    }
    return {
      kind: 'vectorSelector', metricName, nameSpan, matchers, braces, offset: null, at: null, anchored: false,
      smoothed: false, from: name?.from ?? braces!.from, to: this.end(),
    };
  }

  /** The matchers between `{` (taken) and `}`. */
  private labelMatchers(): { matchers: SelectorMatcher[]; quotedName: (Span & { value: string; index: number }) | null } {
    const context = (expected: string): Context => ['label matching', expected];
    const matchers: SelectorMatcher[] = [];
    let quotedName: (Span & { value: string; index: number }) | null = null;
    if (this.peek().type === 'RIGHT_BRACE') {
      this.take();
      return { matchers, quotedName };
    }
    for (;;) {
      const label = this.peek();
      if (label.type === 'IDENTIFIER' || (label.type === 'STRING' && this.dialect !== 2)) {
        this.take();
        const opToken = this.peek();
        const op = MATCH_OPS[opToken.type];
        if (label.type === 'STRING') this.sensitive();
        if (op === undefined) {
          if (label.type === 'IDENTIFIER') this.unexpected(context('label matching operator'));
          // A lone quoted name: the metric name. Several are all kept as __name__ matchers.
          const value = this.unquote(label);
          if (quotedName === null) quotedName = { value, from: label.from, to: label.to, index: matchers.length };
          else matchers.push({ name: '__name__', op: '=', value, from: label.from, to: label.to });
        } else {
          this.take();
          const valueToken = this.peek();
          if (valueToken.type !== 'STRING') this.unexpected(context('string'));
          this.take();
          const name = label.type === 'STRING' ? this.unquote(label) : label.text;
          const value = this.unquote(valueToken);
          const problem = regexError(op, value, this.dialect === 2 || this.dialect === 'union' ? 2 : 3);
          if (problem !== null) this.error(label.from, problem);
          matchers.push({ name, op, value, from: label.from, to: valueToken.to });
        }
      } else {
        this.unexpected(context('identifier or "}"'));
      }
      const t = this.peek();
      if (t.type === 'COMMA') {
        this.take();
        if (this.peek().type === 'RIGHT_BRACE') break;
        continue;
      }
      if (t.type !== 'RIGHT_BRACE') this.unexpected(context('"," or "}"'));
      break;
    }
    this.take();
    return { matchers, quotedName };
  }

  // --- postfix modifiers -----------------------------------------------------------------------------

  /** `[range]`, `[range:step]`, `offset`, `@`, `anchored`, `smoothed`, as many as follow. */
  private postfix(expr: Expr): Expr {
    let node = expr;
    for (;;) {
      const t = this.peek();
      if (t.type === 'LEFT_BRACKET') node = this.brackets(node);
      else if (t.type === 'OFFSET') node = this.offset(node);
      else if (t.type === 'AT') node = this.at(node);
      else if (t.type === 'ANCHORED' || t.type === 'SMOOTHED') node = this.extendedRange(node);
      else return node;
    }
  }

  private brackets(expr: Expr): Expr {
    const open = this.take();
    this.enter(open.from);
    let range: DurationValue;
    let step: DurationValue | null = null;
    let subquery = false;
    if (this.dialect === 2) {
      range = this.duration2(['subquery selector', 'duration']);
      const t = this.peek();
      if (t.type === 'COLON') {
        this.take();
        subquery = true;
        if (this.peek().type === 'DURATION') step = this.duration2(['subquery selector', 'duration or "]"']);
        else if (this.peek().type !== 'RIGHT_BRACKET') this.unexpected(['subquery selector', 'duration or "]"']);
        if (this.peek().type !== 'RIGHT_BRACKET') this.unexpected(['subquery selector', '"]"']);
      } else if (t.type !== 'RIGHT_BRACKET') {
        this.unexpected(['subquery or range', '":" or "]"']);
      }
    } else {
      range = this.positiveDuration(['subquery or range selector', 'number, duration, step(), or range()']);
      const t = this.peek();
      if (t.type === 'COLON') {
        this.take();
        subquery = true;
        if (this.peek().type !== 'RIGHT_BRACKET') {
          step = this.positiveDuration(['subquery selector', 'number, duration, step(), range(), or "]"']);
          if (this.peek().type !== 'RIGHT_BRACKET') this.unexpected(['subquery selector', '"]"']);
        }
      } else if (t.type !== 'RIGHT_BRACKET') {
        this.unexpected(['subquery or range', '":" or "]"']);
      }
    }
    this.take();
    this.leave();
    if (subquery) {
      return { kind: 'subquery', expr, range, step, offset: null, at: null, from: expr.from, to: this.end() };
    }
    let message = '';
    if (expr.kind !== 'vectorSelector') message = 'ranges only allowed for vector selectors';
    else if (expr.offset !== null && expr.offset.value.kind === 'number' && expr.offset.value.value !== 0) message = 'no offset modifiers allowed before range';
    else if (expr.at?.kind === 'time') message = 'no @ modifiers allowed before range';
    if (message !== '') this.error(open.from, message);
    const selector = expr.kind === 'vectorSelector' ? expr : placeholderSelector(expr);
    return { kind: 'matrixSelector', selector, range, from: expr.from, to: this.end() };
  }

  /** 2.42: a DURATION token in brackets (2.42 refuses 0). */
  private duration2(context: Context): NumberLiteral {
    const t = this.peek();
    if (t.type !== 'DURATION') this.unexpected(context);
    this.take();
    return { kind: 'number', value: this.durationValue(t), duration: true, from: t.from, to: t.to };
  }

  /** 3.x: positive_duration_expr, a duration expression that must not be a literal <= 0. */
  private positiveDuration(context: Context): DurationValue {
    const value = this.durationExpression(0, context);
    if (this.dialect === 'union' && !(value.kind === 'number' && value.duration)) this.sensitive();
    if (value.kind === 'number' && value.value <= 0) this.error(value.from, 'duration must be greater than 0');
    return value;
  }

  /**
   * 3.x's duration_expr with the operators' precedence; a syntax error inside is reported by the
   * enclosing error production (`context`).
   */
  private durationExpression(minPrec: number, context: Context): DurationValue {
    let lhs = this.durationOperand(context);
    for (;;) {
      const t = this.peek();
      const binary = DURATION_OPERATORS.has(t.type) ? BINARY[t.type] : undefined;
      if (binary === undefined || binary.prec < minPrec) return lhs;
      this.take();
      this.experimentalDuration(lhs);
      this.enter(t.from);
      const rhs = this.durationExpression(binary.op === '^' ? binary.prec : binary.prec + 1, context);
      this.leave();
      if ((binary.op === '/' || binary.op === '%') && rhs.kind === 'number' && rhs.value === 0) {
        this.error(t.from, binary.op === '/' ? 'division by zero' : 'modulo by zero');
      }
      lhs = { kind: 'durationExpr', op: binary.op as DurationExpr['op'], lhs, rhs, from: lhs.from, to: rhs.to };
    }
  }

  private durationOperand(context: Context): DurationValue {
    const t = this.peek();
    switch (t.type) {
      case 'NUMBER': case 'DURATION': {
        const literal = this.numberOrDuration();
        return this.inDurationRange(literal, literal.from);
      }
      case 'ADD': case 'SUB': {
        this.take();
        this.enter(t.from);
        const operand = this.durationExpression(POW_PREC, context);
        this.leave();
        return this.signed(t, operand, false);
      }
      case 'LEFT_PAREN': {
        this.take();
        this.enter(t.from);
        const inner = this.durationExpression(0, context);
        this.leave();
        if (this.peek().type !== 'RIGHT_PAREN') this.unexpected(context);
        this.take();
        this.experimentalDuration(inner);
        return { kind: 'paren', expr: inner, from: t.from, to: this.end() };
      }
      case 'STEP': case 'RANGE': case 'MAX_OF': case 'MIN_OF':
        return this.durationFunction(context);
      default:
        return this.unexpected(context);
    }
  }

  /** step(), range(), min_of(a, b), max_of(a, b) inside a duration. */
  private durationFunction(context: Context): DurationExpr {
    const t = this.take();
    if (this.peek().type !== 'LEFT_PAREN') this.unexpected(context);
    this.take();
    let lhs: DurationValue | null = null;
    let rhs: DurationValue | null = null;
    if (t.type === 'MAX_OF' || t.type === 'MIN_OF') {
      this.enter(t.from);
      lhs = this.durationExpression(0, context);
      if (this.peek().type !== 'COMMA') this.unexpected(context);
      this.take();
      rhs = this.durationExpression(0, context);
      this.leave();
    }
    if (this.peek().type !== 'RIGHT_PAREN') this.unexpected(context);
    this.take();
    const op = t.text.toLowerCase() as DurationExpr['op'];
    const node: DurationExpr = { kind: 'durationExpr', op, lhs, rhs, from: t.from, to: this.end() };
    this.experimentalDuration(node);
    return node;
  }

  /** applyUnaryOpToDurationExpr: `-5m` is the literal -300, `-step()` a negation. */
  private signed(sign: Token, operand: DurationValue, wrapped: boolean): DurationValue {
    void wrapped;
    if (operand.kind === 'number') {
      const value = sign.type === 'SUB' ? -operand.value : operand.value;
      return this.inDurationRange({ ...operand, value, from: sign.from }, sign.from);
    }
    if (sign.type === 'ADD') return operand;
    return { kind: 'durationExpr', op: '-', lhs: null, rhs: operand, from: sign.from, to: operand.to };
  }

  private inDurationRange(literal: NumberLiteral, at: number): NumberLiteral {
    if (!durationOutOfRange(literal.value)) return literal;
    this.error(at, 'duration out of range');
    return { ...literal, value: 0 };
  }

  private experimentalDuration(node: DurationValue): void {
    this.sensitive();
    if (!this.experimental.durationExpressions) this.error(node.from, 'experimental duration expression is not enabled');
  }

  private offset(expr: Expr): Expr {
    const keyword = this.take();
    let value: DurationValue;
    if (this.dialect === 2) {
      const context: Context = ['offset', 'duration'];
      const sign = this.peek().type === 'SUB' ? this.take() : null;
      if (this.peek().type !== 'DURATION') this.unexpected(context);
      const literal = this.duration2Offset();
      value = sign === null ? literal : { ...literal, value: -literal.value, from: sign.from };
    } else {
      value = this.offsetDuration();
    }
    const clause: Offset = { value, from: keyword.from, to: this.end() };
    return this.withModifier(expr, 'offset', clause);
  }

  /** 2.42's offset duration: a DURATION token. */
  private duration2Offset(): NumberLiteral {
    const t = this.take();
    return { kind: 'number', value: this.durationValue(t), duration: true, from: t.from, to: t.to };
  }

  /**
   * 3.x's offset_duration_expr: a literal (signed or not), step()/range()/min_of()/max_of() (signed or
   * not), a signed parenthesised duration, or a parenthesised duration that arithmetic may follow.
   * So `x offset 5m + 1` is `(x offset 5m) + 1` and `x offset -2 ^ 2` is `(x offset -2) ^ 2`.
   */
  private offsetDuration(): DurationValue {
    const context: Context = ['offset', 'number, duration, step(), or range()'];
    const t = this.peek();
    switch (t.type) {
      case 'NUMBER': case 'DURATION': {
        const literal = this.numberOrDuration();
        if (literal.kind === 'number' && !literal.duration) this.sensitive();
        return this.inDurationRange(literal, literal.from);
      }
      case 'ADD': case 'SUB': {
        this.take();
        const next = this.peek();
        if (t.type === 'ADD') this.sensitive();
        if (next.type === 'NUMBER' || next.type === 'DURATION') {
          const literal = this.numberOrDuration();
          if (!literal.duration) this.sensitive();
          return this.signed(t, literal, false);
        }
        if (next.type === 'STEP' || next.type === 'RANGE' || next.type === 'MAX_OF' || next.type === 'MIN_OF') {
          const fn = this.durationFunction(context);
          return this.signed(t, fn, false);
        }
        if (next.type === 'ADD' || next.type === 'SUB') {
          // A second sign: a duration expression (unary minus binds `^` only), which, as above, the
          // operators after it continue.
          this.sensitive();
          const operand = this.durationExpression(POW_PREC, context);
          return this.durationTail(this.signed(t, operand, false), context);
        }
        if (next.type === 'LEFT_PAREN') {
          this.take();
          this.sensitive();
          const inner = this.durationExpression(0, context);
          if (this.peek().type !== 'RIGHT_PAREN') this.unexpected(context);
          this.take();
          const paren: DurationValue = inner.kind === 'durationExpr' ? { kind: 'paren', expr: inner, from: next.from, to: this.end() } : inner;
          return this.signed(t, paren, true);
        }
        return this.unexpected(context);
      }
      case 'STEP': case 'RANGE': case 'MAX_OF': case 'MIN_OF':
        return this.durationFunction(context);
      case 'LEFT_PAREN': {
        // A duration expression starting with a parenthesis; without a rule of its own, yacc shifts
        // the operators that follow into it.
        const paren = this.durationOperand(context);
        return this.durationTail(paren, context);
      }
      default:
        return this.unexpected(context);
    }
  }

  /** Operators after a parenthesised offset duration, lowest precedence first. */
  private durationTail(first: DurationValue, context: Context): DurationValue {
    let lhs = first;
    for (;;) {
      const t = this.peek();
      const binary = DURATION_OPERATORS.has(t.type) ? BINARY[t.type] : undefined;
      if (binary === undefined) return lhs;
      this.take();
      this.experimentalDuration(lhs);
      const rhs = this.durationExpression(binary.op === '^' ? binary.prec : binary.prec + 1, context);
      if ((binary.op === '/' || binary.op === '%') && rhs.kind === 'number' && rhs.value === 0) {
        this.error(t.from, binary.op === '/' ? 'division by zero' : 'modulo by zero');
      }
      lhs = { kind: 'durationExpr', op: binary.op as DurationExpr['op'], lhs, rhs, from: lhs.from, to: rhs.to };
    }
  }

  private at(expr: Expr): Expr {
    const keyword = this.take();
    const context: Context = ['@', 'timestamp'];
    const t = this.peek();
    if (t.type === 'START' || t.type === 'END') {
      this.take();
      if (this.peek().type !== 'LEFT_PAREN') this.unexpected(context);
      this.take();
      if (this.peek().type !== 'RIGHT_PAREN') this.unexpected(context);
      this.take();
      const clause: At = { kind: t.type === 'START' ? 'start' : 'end', from: keyword.from, to: this.end() };
      return this.withModifier(expr, '@', clause);
    }
    let sign = 1;
    if (t.type === 'ADD' || t.type === 'SUB') {
      this.take();
      if (t.type === 'SUB') sign = -1;
    }
    const n = this.peek();
    if (n.type !== 'NUMBER' && (n.type !== 'DURATION' || this.dialect === 2)) this.unexpected(context);
    if (n.type === 'DURATION') this.sensitive();
    const seconds = sign * this.numberOrDuration().value;
    if (!Number.isFinite(seconds) || seconds >= 2 ** 63 || seconds <= -(2 ** 63)) {
      this.error(expr.from, `timestamp out of bounds for @ modifier: ${goFloatF(seconds)}`);
    }
    const clause: At = { kind: 'time', ms: goRound(seconds * 1000), from: keyword.from, to: this.end() };
    return this.withModifier(expr, '@', clause);
  }

  private extendedRange(expr: Expr): Expr {
    const t = this.take();
    const what = t.type === 'ANCHORED' ? 'anchored' : 'smoothed';
    this.sensitive();
    if (!this.experimental.extendedRangeSelectors) {
      this.error(expr.from, `${what} modifier is experimental and not enabled`);
      return expr;
    }
    const selector = expr.kind === 'vectorSelector' ? expr : expr.kind === 'matrixSelector' ? expr.selector : null;
    if (selector === null) {
      this.error(expr.from, expr.kind === 'subquery' ? `${what} modifier is not supported for subqueries` : `${what} modifier not implemented`);
      return expr;
    }
    const other = what === 'anchored' ? selector.smoothed : selector.anchored;
    if (other) this.error(expr.from, 'anchored and smoothed modifiers cannot be used together');
    const marked: VectorSelector = what === 'anchored' ? { ...selector, anchored: true } : { ...selector, smoothed: true };
    if (expr.kind === 'matrixSelector') return { ...expr, selector: marked, to: t.to };
    return { ...marked, to: t.to };
  }

  /** addOffset / setTimestamp: only selectors and subqueries take modifiers, each at most once. */
  private withModifier(expr: Expr, what: 'offset' | '@', clause: Offset | At): Expr {
    const target = expr.kind === 'matrixSelector' ? expr.selector : expr;
    if (target.kind !== 'vectorSelector' && target.kind !== 'subquery') {
      this.error(expr.from, `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`);
      return expr;
    }
    let updated: Mutable<typeof target>;
    if (what === 'offset') {
      const previous = target.offset;
      // Prometheus tells "not set" by a zero offset: `offset 0 offset 1h` passes in 3.x.
      if (previous !== null && !(previous.value.kind === 'number' && previous.value.value === 0)) {
        this.error(expr.from, 'offset may not be set multiple times');
        return expr;
      }
      updated = { ...target, offset: clause as Offset };
    } else {
      if (target.at !== null) {
        this.error(expr.from, '@ <timestamp> may not be set multiple times');
        return expr;
      }
      updated = { ...target, at: clause as At };
    }
    if (expr.kind === 'matrixSelector') return { ...expr, selector: updated as VectorSelector, to: clause.to };
    updated.to = clause.to;
    return updated as Expr;
  }
}

const TOO_DEEP = '\u0000too deep';

/** NUMBER tokens 2.42 lexes the same way and values the same. */
const PLAIN_NUMBER = /^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|0[xX][0-9a-fA-F]+|[iI][nN][fF]|[nN][aA][nN])$/;

/** `x offset 1h[5m]` still needs a node to carry on with after the error is recorded. */
function placeholderSelector(expr: Expr): VectorSelector {
  return {
    kind: 'vectorSelector', metricName: null, nameSpan: null, matchers: [], braces: null, offset: null, at: null,
    anchored: false, smoothed: false, from: expr.from, to: expr.to,
  };
}

/** fmt's %f for the values setTimestamp refuses (infinite, NaN or beyond ±2^63: whole numbers). */
function goFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return `${BigInt(x)}.000000`;
}

/** Refuses a tree deeper than MAX_DEPTH (long operator chains are deep without nesting in the text). */
function checkHeight(root: Expr, text: string): void {
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw new QueryTooDeepError(node.from, text);
    for (const child of children(node)) stack.push([child, depth + 1]);
  }
}
