// The part of a query the router evaluates itself, above the parts the shards evaluate (leaves).
import type { QueryPlan } from '../promql/plan.ts';
import type { Labels } from './types.ts';

export type AggregateOp =
  | 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar'
  | 'topk' | 'bottomk' | 'quantile' | 'count_values' | 'limitk' | 'limit_ratio';

/** `sum(x)` is `{ without: false, labels: [] }`. */
export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^' | 'atan2'
  | '==' | '!=' | '>' | '<' | '>=' | '<='
  | 'and' | 'or' | 'unless';

/**
 * How the sides of a vector-vector operation match. `labels` are the on()/ignoring() labels
 * (`on: false` with no labels is the default: match on all labels but `__name__`); `include` are
 * the group_left()/group_right() labels.
 */
export interface Matching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly include: readonly string[];
}

/** A subtree every shard evaluates on its own data; the router unites the answers. */
export interface Leaf {
  readonly id: number;
  /** The leaf's query (original text, or a synthesised push-down like `sum by (job) (...)`). */
  readonly plan: QueryPlan;
  /** Shards whose data the leaf reads; none means it is empty. */
  readonly shards: readonly string[];
  /**
   * Rows are partial aggregates that the router combines, so several shards answering the same label
   * set is expected, not Prometheus's "same labelset" error.
   */
  readonly partial: boolean;
  /**
   * The query is a range selector (`x[R] offset o`) asked as an instant query at the end of the leaf's
   * grid: its answer is raw samples, which the router cuts into each step's window itself.
   */
  readonly raw?: boolean;
}

/** `@ <time>`, `@ start()`, `@ end()` on a subquery evaluated by the router. */
export type At = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' | 'end' };

/**
 * The router's part of a query, over leaves of type `L` (and the raw leaves of range selectors, `R`):
 * the logical plan's remote queries (logical-plan.ts), then the compiled leaves the engine fetches (`Expr`).
 */
export type ExprOver<L, R> =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | L
  /** A range selector's windows, cut by the router from the raw samples of a raw remote query `R`. */
  | { readonly kind: 'rangeLeaf'; readonly leaf: R; readonly rangeMs: number; readonly offsetMs: number; readonly at: At | null }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly ExprOver<L, R>[] }
  /** absent()/absent_over_time(): `labels` are derived from the argument's matchers, as Prometheus does. */
  | { readonly kind: 'absent'; readonly expr: ExprOver<L, R>; readonly labels: Labels }
  | { readonly kind: 'aggregate'; readonly op: AggregateOp; readonly grouping: Grouping; readonly param: ExprOver<L, R> | null; readonly expr: ExprOver<L, R> }
  /**
   * avg, stddev and stdvar combined from per-shard count and mean rows, with `other` the per-shard sums
   * (avg) or variances (stddev/stdvar).
   */
  | { readonly kind: 'mergeMoments'; readonly op: 'avg' | 'stddev' | 'stdvar'; readonly count: ExprOver<L, R>; readonly mean: ExprOver<L, R>; readonly other: ExprOver<L, R> }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly lhs: ExprOver<L, R>; readonly rhs: ExprOver<L, R>; readonly bool: boolean; readonly matching: Matching }
  | { readonly kind: 'negate'; readonly expr: ExprOver<L, R> }
  | { readonly kind: 'subquery'; readonly expr: ExprOver<L, R>; readonly rangeMs: number; readonly stepMs: number | null; readonly offsetMs: number; readonly at: At | null };

export type Expr = ExprOver<{ readonly kind: 'leaf'; readonly leaf: Leaf }, Leaf>;
