// Where each part of a query is evaluated (after thanos-io/promql-engine's distribute.go): the rules that
// place a node (can every shard evaluate it on its own data, and does its answer keep the shard label?)
// and the distribution rewrites that send the largest exact subtrees to the shards. Every push-down is
// exact: the router's answer is the global Prometheus's, only less data crosses the network.
import type { AggregateExpr, BinaryExpr, Call, Expr as Node } from '../promql/ast.ts';
import { fills } from '../promql/ast.ts';
import { promqlFunction } from '../promql/function-table.ts';
import { labelFunctionTouches, matchesOnLabel, stringArgument, unwrapParens } from '../promql/labels.ts';
import { labelNameText } from '../promql/strings.ts';
import { valueType } from '../promql/types.ts';
import type { AggregateOp, Grouping, Matching } from './expr.ts';
import type { LogicalNode, Planner, Rewrite } from './logical-plan.ts';
import { mergedForm } from './merged-form.ts';

/** What the planner knows about a subtree to decide where it is evaluated, derived once per node. */
export interface Placement {
  readonly shards: ReadonlySet<string>;
  /** The subtree reads no series: a number, `time()`, `vector(1)`. */
  readonly constant: boolean;
  /** Each shard can evaluate it on its own data and the global answer is the union of theirs. */
  readonly separable: boolean;
  /** Separable, and every series of a shard's answer carries the shard label with that shard's name. */
  readonly keyed: boolean;
}

const CONSTANT: Placement = { shards: new Set(), constant: true, separable: false, keyed: false };

/**
 * A node's placement, from its operands' (already placed: the planner places bottom-up). A subtree that
 * reads a shard whose replicas are merged is separable only as a merged leaf: the router computes that
 * shard's part itself from the replicas' samples, and a merged leaf is all it computes that way.
 */
export function place(node: Node, planner: Planner): Placement {
  const p = placeOnShards(node, planner);
  if (p.separable && planner.readsMerged(p) && mergedForm(node) === null) return { ...p, separable: false, keyed: false };
  return p;
}

function placeOnShards(node: Node, planner: Planner): Placement {
  if (node.kind === 'vectorSelector') {
    // Each shard holds its own series, all of which get its label: the selector's answer is the union.
    return { shards: new Set(planner.query.shardsOf(node)), constant: false, separable: true, keyed: true };
  }
  if (node.kind === 'number' || node.kind === 'string') return CONSTANT;
  const operands = operandsOf(node).map((o) => planner.placement(o));
  const shards = new Set(operands.flatMap((p) => [...p.shards]));
  if (operands.every((p) => p.constant)) return { ...CONSTANT, shards };
  const result = (separable: boolean, keyed = separable): Placement => ({ shards, constant: false, separable, keyed: separable && keyed });
  switch (node.kind) {
    case 'call': return callPlacement(node, planner, result);
    case 'aggregate': return result(aggregationKeepsShardsApart(node, planner));
    case 'binary': return pushDownBinaryKeepingShardLabel(node, planner, result);
    case 'matrixSelector': case 'paren': case 'subquery': case 'unary':
      return operands[0]!;
    default:
      return result(false);
  }
}

type Result = (separable: boolean, keyed?: boolean) => Placement;

/**
 * A function applied series by series is separable where its series argument is and its other
 * arguments are constants; it keeps the shard label unless it writes it.
 */
function callPlacement(node: Call, planner: Planner, result: Result): Placement {
  const f = promqlFunction(node.name);
  // sort(), scalar(), absent() and the like need every shard's series at once.
  if (f === undefined || f.readsWholeVector) return result(false);
  const args = node.args.map((a) => planner.placement(a));
  const series = args[f.seriesArgument];
  if (series === undefined || !args.every((p, i) => i === f.seriesArgument || p.constant)) return result(false);
  // histogram_quantile groups buckets by their other labels: only shard-keyed buckets stay apart.
  if (f.groupsBuckets) return result(series.keyed);
  if (node.name === 'label_replace' || node.name === 'label_join') {
    // Writing (or reading) the shard label: a shard's answer no longer says which shard it came from.
    return result(series.separable, series.keyed && !labelFunctionTouches(node, planner.shardLabel));
  }
  return result(series.separable, series.keyed);
}

/**
 * An aggregation that keeps the shard label in its grouping (`by (cluster, ...)`, `without (instance)`)
 * aggregates each shard's series apart: every shard computes its own groups exactly. Not so where
 * count_values writes its values into the shard label, or the parameter reads series.
 */
function aggregationKeepsShardsApart(node: AggregateExpr, planner: Planner): boolean {
  const { op, grouping, param, expr } = node;
  const keepsShard = groupingOf(node).without !== (grouping?.labels.includes(planner.shardLabel) ?? false);
  const writesShardLabel = op === 'count_values' && stringArgument(param) === planner.shardLabel;
  const paramsConstant = param === null || planner.placement(param).constant;
  return planner.placement(expr).keyed && keepsShard && paramsConstant && !writesShardLabel;
}

/**
 * The placement of a binary operation, which pushDownSeparable then sends whole. With a constant scalar
 * side it is separable where its other side is. Between two vectors, it is separable where series can
 * only match within one shard: both sides keep the shard label and the matching includes it (`a / b`,
 * `a * on (cluster, pod) b`, `a and ignoring (le) b`), so each shard joins its own series exactly as
 * the global Prometheus would.
 */
function pushDownBinaryKeepingShardLabel(node: BinaryExpr, planner: Planner, result: Result): Placement {
  if (fills(node.matching)) return result(false);
  const l = planner.placement(node.lhs);
  const r = planner.placement(node.rhs);
  if (valueType(node.lhs) === 'scalar') return l.constant ? result(r.separable, r.keyed) : result(false);
  if (valueType(node.rhs) === 'scalar') return r.constant ? result(l.separable, l.keyed) : result(false);
  return result(l.keyed && r.keyed && matchesOnLabel(node.matching, planner.shardLabel));
}

// --- the rewrites, tried in this order at each node, top down --------------------------------------

/**
 * A subtree every shard can evaluate on its own data goes to the shards whole: the global answer is
 * the union of the shards' answers, each series with its shard's label.
 */
export const pushDownSeparable: Rewrite = (node, planner) => {
  const p = planner.placement(node);
  if (p.constant || !p.separable || !splitsHere(node, planner)) return null;
  return planner.remote(planner.source(node), node, false);
};

/**
 * Whether a separable subtree may be a remote query of its own. A range vector never is: the router
 * evaluates the function over it (rangeLeaf). Split at the selectors, only selectors are, and
 * timestamp(<selector>), whose samples' times only the shards know.
 */
function splitsHere(node: Node, planner: Planner): boolean {
  if (valueType(node) === 'matrix') return false;
  return planner.splitAt === 'subtrees' || node.kind === 'vectorSelector' || isTimestampOfSelector(node);
}

function isTimestampOfSelector(node: Node): boolean {
  return node.kind === 'call' && node.name === 'timestamp' && node.args[0] !== undefined && unwrapParens(node.args[0]).kind === 'vectorSelector';
}

/**
 * absent(v) is empty when v has series on any shard. The shards need only say whether they have any:
 * `count(v)`, a row per shard at most. Labels come from the selector's matchers as in Prometheus.
 * Over a range, last_over_time keeps each series' labels whole: count_over_time would drop the
 * metric name and fail where metrics share their other labels, which absent_over_time never does.
 */
export const probeAbsent: Rewrite = (node, planner) => {
  if (node.kind !== 'call' || (node.name !== 'absent' && node.name !== 'absent_over_time') || !planner.pushDown) return null;
  const arg = node.args[0];
  const p = arg === undefined ? null : planner.placement(arg);
  if (arg === undefined || p === null || p.constant || !p.separable) return null;
  const inner = withClosable(planner.source(arg));
  // A merged shard's leaves are merged leaves, which count() is not: that shard sends the series.
  const count = (q: string) => (planner.readsMerged(p) ? q : `count(${q})`);
  const probe = node.name === 'absent' ? count(inner) : count(`last_over_time(${inner})`);
  return { kind: 'absent', expr: planner.remote(probe, arg, true), labels: planner.absentLabels(arg) };
};

/** Aggregations whose per-shard partial answers combine exactly with the same (or a summing) aggregation. */
const COMBINE_PARTIALS: Partial<Record<AggregateOp, AggregateOp>> = {
  sum: 'sum', count: 'sum', min: 'min', max: 'max', group: 'group', count_values: 'sum',
};

const ANY_LABELS: Grouping = { without: true, labels: [] };

/**
 * An aggregation that drops the shard label over a separable subtree, as partial aggregates: each
 * shard aggregates its own series by the same grouping and the router combines the rows. Exact for
 * sum, min, max and group (associative), count and count_values (counts add up), topk/bottomk
 * (the global top k are among the shards' top k) and, on 3.x shards (2.x has none), limitk (each
 * shard's first k in label order include the global first k). Off with the pushDown option.
 */
export const pushDownAggregation: Rewrite = (node, planner) => {
  const partial = partialAggregate(node, planner);
  if (partial === null) return null;
  const { op, param } = partial.node;
  const combine = COMBINE_PARTIALS[op as AggregateOp];
  if (combine !== undefined) return { kind: 'aggregate', op: combine, grouping: ANY_LABELS, param: null, expr: partial.rows(op) };
  if (op !== 'topk' && op !== 'bottomk' && !(op === 'limitk' && planner.major === 3)) return null;
  return { kind: 'aggregate', op, grouping: groupingOf(partial.node), param: param === null ? null : planner.plan(param), expr: partial.rows(op) };
};

/**
 * avg is not associative, but its parts are: the shards' sums over their counts, and where that sum
 * overflows, the shards' means combined incrementally, as Prometheus averages (mergeMoments).
 */
export const pushDownAvg: Rewrite = (node, planner) => {
  const partial = partialAggregate(node, planner);
  if (partial?.node.op !== 'avg') return null;
  return { kind: 'mergeMoments', op: 'avg', count: partial.rows('count'), mean: partial.rows('avg'), other: partial.rows('sum') };
};

/**
 * stddev/stdvar from each shard's count, mean and variance, merged shard by shard with Chan et al.'s
 * pairwise formula, which keeps the variance of equal values exactly 0.
 */
export const pushDownVariance: Rewrite = (node, planner) => {
  const partial = partialAggregate(node, planner);
  if (partial?.node.op !== 'stddev' && partial?.node.op !== 'stdvar') return null;
  return { kind: 'mergeMoments', op: partial.node.op, count: partial.rows('count'), mean: partial.rows('avg'), other: partial.rows('stdvar') };
};

/**
 * The right side of `and`/`unless` only says which match signatures exist at each step: its values
 * and other labels never reach the answer. Where the operation is the router's (its matching leaves
 * the shard label out, or its left side is aggregated), each shard sends one row per signature,
 * `group by (<on labels>) (rhs)` or `group without (<ignoring labels>) (rhs)`, instead of every series.
 * Only where the right side keeps the shard label: its series from different shards never share a
 * label set, so no "same labelset" error that the global Prometheus would raise is lost to grouping.
 * Not where it reads a merged shard, whose leaves are merged leaves (merged-form.ts).
 */
export const pushDownLabelSetsOnly: Rewrite = (node, planner) => {
  if (node.kind !== 'binary' || (node.op !== 'and' && node.op !== 'unless') || !planner.pushDown) return null;
  const rhs = planner.placement(node.rhs);
  if (rhs.constant || !rhs.keyed || planner.readsMerged(rhs) || valueType(node.lhs) !== 'vector' || valueType(node.rhs) !== 'vector') return null;
  const signature: Grouping = { without: !node.matching.on, labels: node.matching.labels };
  const rows = planner.remote(`group${groupingText(signature)} (${withClosable(planner.source(node.rhs))})`, node.rhs, true);
  return {
    kind: 'binary', op: node.op, bool: node.bool, matching: matchingOf(node),
    lhs: planner.plan(node.lhs),
    rhs: { kind: 'aggregate', op: 'group', grouping: ANY_LABELS, param: null, expr: rows },
  };
};

export const DISTRIBUTION_REWRITES: readonly Rewrite[] = [
  pushDownSeparable, probeAbsent, pushDownAggregation, pushDownAvg, pushDownVariance, pushDownLabelSetsOnly,
];

/**
 * An aggregation whose input every shard evaluates alone (and whose parameter is a constant), with the
 * remote query of its partial rows by another aggregation of the same grouping; null where partial
 * aggregates do not apply (also where it reads a merged shard). quantile needs every value, limit_ratio
 * the labels with the shard label (its hash): left to the router.
 */
function partialAggregate(node: Node, planner: Planner): { node: AggregateExpr; rows: (op: string) => LogicalNode } | null {
  if (node.kind !== 'aggregate' || !planner.pushDown) return null;
  const inner = planner.placement(node.expr);
  if (inner.constant || !inner.separable || (node.param !== null && !planner.placement(node.param).constant)) return null;
  // A merged shard's leaves are merged leaves: no partial aggregates there.
  if (planner.readsMerged(inner)) return null;
  const prefix = node.param === null ? '' : `${planner.source(node.param)}, `;
  const body = withClosable(planner.source(node.expr));
  const grouping = groupingText(groupingOf(node));
  return { node, rows: (op) => planner.remote(`${op}${grouping} (${prefix}${body})`, node.expr, true) };
}

// --- helpers ------------------------------------------------------------------------------------------

/** The operands whose placement decides a node's (a matrix selector's is its vector selector). */
function operandsOf(node: Node): Node[] {
  switch (node.kind) {
    case 'call': return [...node.args];
    case 'aggregate': return node.param === null ? [node.expr] : [node.param, node.expr];
    case 'binary': return [node.lhs, node.rhs];
    case 'matrixSelector': return [node.selector];
    case 'paren': case 'subquery': case 'unary': return [node.expr];
    default: return [];
  }
}

/** The matching clause as the engine reads it (PromQL 3's fill modifiers are refused before). */
export function matchingOf(node: BinaryExpr): Matching {
  const { card, on, labels, include } = node.matching;
  return { card, on, labels, include };
}

export function groupingOf(node: AggregateExpr): Grouping {
  return { without: node.grouping?.without ?? false, labels: node.grouping?.labels ?? [] };
}

/** ` by (a, b)`, ` without (c)`, or nothing: the grouping clause as PromQL text. */
export function groupingText(grouping: Grouping): string {
  if (!grouping.without && grouping.labels.length === 0) return '';
  const names = grouping.labels.map(labelNameText);
  return ` ${grouping.without ? 'without' : 'by'} (${names.join(', ')})`;
}

/** Text to put inside parentheses: a # comment in it would swallow the closing one without a line break. */
function withClosable(text: string): string {
  return text.includes('#') ? `${text}\n` : text;
}
