// The typed PromQL syntax tree, built once by parse.ts and read by every later stage (routing, label
// analysis, rewriting, the cross-shard compiler). It follows Prometheus's promql/parser/ast.go: the
// same node kinds, modifiers as fields (offset and @ on vector selectors and subqueries; a matrix
// selector's live on its vector selector), number literals with a sign folded in (`-1`), vector
// matching as checkAST leaves it (set operators many-to-many). Unlike ast.go it keeps parentheses as
// nodes and gives every node its exact place in the query text (`from`/`to`, JavaScript string
// indexes, end exclusive): the rewrite keeps the query byte for byte except where it edits.
import type { Matcher } from './matchers.ts';

export interface Span {
  readonly from: number;
  readonly to: number;
}

export type Expr =
  | NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | Call | AggregateExpr | BinaryExpr
  | UnaryExpr | ParenExpr | DurationExpr;

/** A number (`1`, `-2.5e3`, `0x1f`, `Inf`) or, in PromQL 3, a duration used as one (`5m` is 300). */
export interface NumberLiteral extends Span {
  readonly kind: 'number';
  readonly value: number;
  /** Written as a duration (`5m`): its value is in seconds. */
  readonly duration: boolean;
}

export interface StringLiteral extends Span {
  readonly kind: 'string';
  readonly value: string;
}

/** A label matcher as written inside braces, decoded. */
export interface SelectorMatcher extends Matcher, Span {}

/** `offset 5m`, `offset -1h`, PromQL 3's `offset step()*2`: the clause from the keyword to its end. */
export interface Offset extends Span {
  /** A number literal (seconds: `5m` is 300, `-1h` is -3600) or a duration expression. */
  readonly value: DurationValue;
}

/** `@ 1609746000`, `@ start()`, `@ end()`: the clause from `@` to its end. */
export type At = Span & ({ readonly kind: 'time'; /** Milliseconds, as Prometheus rounds them. */ readonly ms: number } | { readonly kind: 'start' | 'end' });

export interface VectorSelector extends Span {
  readonly kind: 'vectorSelector';
  /** The metric name: the identifier before the braces, or a lone quoted name inside them (`{"up"}`). */
  readonly metricName: string | null;
  /** Where the metric name is written (before the braces, or inside them as an item of its own). */
  readonly nameSpan: Span | null;
  /** The label matchers written inside the braces, in order (a lone quoted metric name is not one). */
  readonly matchers: readonly SelectorMatcher[];
  /** `{` to `}` inclusive, if the selector has braces. */
  readonly braces: Span | null;
  readonly offset: Offset | null;
  readonly at: At | null;
  /** PromQL 3's `anchored` and `smoothed` modifiers. */
  readonly anchored: boolean;
  readonly smoothed: boolean;
}

export interface MatrixSelector extends Span {
  readonly kind: 'matrixSelector';
  /** The selector; its span ends before the range, its offset/@/anchored/smoothed are the matrix's. */
  readonly selector: VectorSelector;
  readonly range: DurationValue;
}

export interface SubqueryExpr extends Span {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly range: DurationValue;
  /** null: `[5m:]`, the evaluation interval. */
  readonly step: DurationValue | null;
  readonly offset: Offset | null;
  readonly at: At | null;
}

export interface Call extends Span {
  readonly kind: 'call';
  /** As written (function names are case-sensitive). */
  readonly name: string;
  readonly args: readonly Expr[];
}

export type AggregateOp =
  | 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'count_values'
  | 'quantile' | 'limitk' | 'limit_ratio';

export interface Grouping extends Span {
  readonly without: boolean;
  /** Label names, unquoted. */
  readonly labels: readonly string[];
  /** Where each label name is written (as an identifier or a quoted string). */
  readonly labelSpans: readonly Span[];
}

export interface AggregateExpr extends Span {
  readonly kind: 'aggregate';
  /** Lower case (`SUM` is sum). */
  readonly op: AggregateOp;
  /** `by (...)`/`without (...)` before or after the arguments; null when there is none. */
  readonly grouping: Grouping | null;
  /** topk's k, quantile's φ, count_values's label, limitk's k, limit_ratio's ratio. */
  readonly param: Expr | null;
  readonly expr: Expr;
}

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '==' | '!=' | '>' | '<' | '>=' | '<=' | '</' | '>/' | 'and' | 'or' | 'unless';

export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  /** As checkAST sets it: many-to-many for and/or/unless, group_left/right as written, else one-to-one. */
  readonly card: Cardinality;
  /** `on(...)` (true) or `ignoring(...)`/no clause (false). */
  readonly on: boolean;
  /** The labels of on(...)/ignoring(...), unquoted. */
  readonly labels: readonly string[];
  /** The labels of group_left(...)/group_right(...). */
  readonly include: readonly string[];
  /** Where each of `labels` and `include` is written (as an identifier or a quoted string). */
  readonly labelSpans: readonly Span[];
  readonly includeSpans: readonly Span[];
  /** PromQL 3's fill(v), fill_left(v), fill_right(v): the value for a missing side's series. */
  readonly fillLeft: number | null;
  readonly fillRight: number | null;
}

/** Whether the matching fills in a missing side's series (fill, fill_left, fill_right). */
export function fills(matching: VectorMatching): boolean {
  return matching.fillLeft !== null || matching.fillRight !== null;
}

export interface BinaryExpr extends Span {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  /** The operator token. */
  readonly opSpan: Span;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly bool: boolean;
  /** The matching clause as written; it only means something between two instant vectors. */
  readonly matching: VectorMatching;
}

export interface UnaryExpr extends Span {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
}

export interface ParenExpr extends Span {
  readonly kind: 'paren';
  readonly expr: Expr;
}

/**
 * PromQL 3's duration arithmetic in ranges, steps and offsets: `[5m*2]`, `offset -step()`,
 * `[min_of(step(), 1m)]`. `op` is the operator; unary minus has no lhs; step() and range() have no
 * operands.
 */
export interface DurationExpr extends Span {
  readonly kind: 'durationExpr';
  readonly op: '+' | '-' | '*' | '/' | '%' | '^' | 'step' | 'range' | 'min_of' | 'max_of';
  readonly lhs: DurationValue | null;
  readonly rhs: DurationValue | null;
}

/**
 * What a range, a step or an offset holds: a literal (seconds), or duration arithmetic (PromQL 3),
 * possibly in parentheses (`[(5m)]`; the parser puts only durations inside those).
 */
export type DurationValue = NumberLiteral | DurationExpr | ParenExpr;

/** A parsed query: its expression and what the version check needs to know. */
export interface Query {
  readonly text: string;
  readonly expr: Expr;
  /**
   * The query uses syntax that some Prometheus major (or 3.x without an experimental feature) treats
   * differently: PromQL 3 syntax, a number 2.42 lexes otherwise, a function one of the majors lacks.
   * check.ts then parses it again in that major's dialect for Prometheus's exact verdict.
   */
  readonly dialectSensitive: boolean;
}

/** The value of a literal duration in milliseconds (Prometheus rounds seconds to nanoseconds), or null. */
export function literalDurationMs(value: DurationValue): number | null {
  let v: Expr = value;
  while (v.kind === 'paren') v = v.expr;
  return v.kind === 'number' ? goRound(v.value * 1e9) / 1e6 : null;
}

/** Go's math.Round: halves away from zero (JavaScript's Math.round takes them towards +Infinity). */
export function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Whether the metric name is written before the braces (`up{...}`), not inside them (`{"up"}`). */
export function nameBeforeBraces(selector: VectorSelector): boolean {
  const { nameSpan, braces } = selector;
  return nameSpan !== null && (braces === null || nameSpan.to <= braces.from);
}

/** The direct operands of a node, in text order. */
export function children(node: Expr): Expr[] {
  switch (node.kind) {
    case 'number': case 'string': case 'vectorSelector': return [];
    case 'matrixSelector': return [node.selector];
    case 'subquery': case 'paren': case 'unary': return [node.expr];
    case 'call': return [...node.args];
    case 'aggregate': return node.param === null ? [node.expr] : [node.param, node.expr];
    case 'binary': return [node.lhs, node.rhs];
    case 'durationExpr': return [node.lhs, node.rhs].filter((n) => n !== null);
  }
}

/** Every node of the tree in text order (pre-order), without recursion: trees may be thousands deep. */
export function* descendants(root: Expr): Generator<Expr> {
  const stack: Expr[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
}

/** Every vector selector in text order (inside matrix selectors and subqueries too). */
export function vectorSelectors(root: Expr): VectorSelector[] {
  const out: VectorSelector[] = [];
  for (const node of descendants(root)) if (node.kind === 'vectorSelector') out.push(node);
  return out;
}
