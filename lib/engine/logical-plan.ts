// The logical plan of a query that reads several shards (after thanos-io/promql-engine's logicalplan/):
// the typed AST, what the router knows about each node derived once (its placement, distribute.ts's
// rules), then the distribution rewrites tried in order at each node, top down. A node no rewrite
// takes is evaluated by the router over its operands' plans. compile.ts turns the result into the
// engine's expression and the leaves it fetches.
import {
  descendants, fills, literalDurationMs, type AggregateExpr, type BinaryExpr, type Call, type DurationValue, type Expr as Node,
  type MatrixSelector, type SubqueryExpr, type UnaryExpr,
} from '../promql/ast.ts';
import type { Major } from '../promql/function-table.ts';
import { absentLabels, unwrapParens } from '../promql/labels.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { UnsupportedQueryError } from '../errors.ts';
import { DISTRIBUTION_REWRITES, groupingOf, matchingOf, place, type Placement } from './distribute.ts';
import { evaluatesFunction } from './execution/call.ts';
import type { At, ExprOver } from './expr.ts';
import { labelsFrom } from './labels.ts';

/** A subtree every shard it reads evaluates on its own data; the router unites (or combines) the answers. */
export interface RemoteQuery {
  readonly kind: 'remote';
  /** The query each shard answers: the subtree's text, or a synthesised partial aggregate. */
  readonly query: string;
  /** Rows are partial aggregates the router combines: several shards answering one label set is expected. */
  readonly partial: boolean;
  /** A range selector's raw samples, asked at the end of the grid; the router cuts each step's window. */
  readonly raw?: boolean;
}

export type LogicalNode = ExprOver<RemoteQuery, RemoteQuery>;

/**
 * A distribution rewrite: the plan for `node` with (part of) it sent to the shards, or null where the
 * rewrite does not apply. Each says in its comment why the result is exact.
 */
export type Rewrite = (node: Node, planner: Planner) => LogicalNode | null;

export interface PlanOptions {
  /** Push decomposable aggregations down as partial aggregates (default). Off: shards send all series. */
  readonly pushDown?: boolean;
  /**
   * The Prometheus major whose semantics the router's part follows (default 2): what it pushes down
   * (3.x-only aggregations only to 3.x shards).
   */
  readonly major?: Major;
  /**
   * Where the query is split: at the largest subtrees each shard can evaluate (default), or at its
   * selectors, the shards only selecting series and the router evaluating everything above them.
   */
  readonly splitAt?: 'subtrees' | 'selectors';
  /**
   * The query's range (end - start, 0 for an instant query): how much further back than their own
   * range the raw samples of a range selector the router evaluates are asked for.
   */
  readonly spanMs?: number;
  /**
   * Shards whose replicas the router merges (lib/replicas): it computes their leaves itself from the
   * replicas' merged samples, so they get only merged leaves (merged-form.ts), never a partial aggregate.
   */
  readonly mergedShards?: ReadonlySet<string>;
}

/** The logical plan of a query that passed `plan.checkFor` (the parser layer's verdict). */
export function logicalPlan(plan: QueryPlan, options: PlanOptions = {}): LogicalNode {
  const splitAt = options.splitAt ?? 'subtrees';
  const pushDown = (options.pushDown ?? true) && splitAt === 'subtrees';
  const planner = new Planner(plan, pushDown, options.major ?? 2, splitAt, options.spanMs ?? 0, options.mergedShards ?? new Set());
  return planner.plan(plan.root);
}

export class Planner {
  private readonly placements = new Map<Node, Placement>();
  /** How many subqueries enclose the node being planned: their remote queries run on the subquery's grid. */
  private subqueryDepth = 0;
  /** How far the grid the node being planned is evaluated on may reach back beyond its own steps. */
  private spanMs: number;

  constructor(
    readonly query: QueryPlan,
    readonly pushDown: boolean,
    readonly major: Major,
    readonly splitAt: 'subtrees' | 'selectors',
    spanMs: number,
    private readonly mergedShards: ReadonlySet<string> = new Set(),
  ) {
    this.spanMs = spanMs;
    // Every node placed once, operands before the nodes that use them: no recursion, whatever the depth.
    const nodes = [...descendants(query.root)];
    for (let i = nodes.length - 1; i >= 0; i--) this.placements.set(nodes[i]!, place(nodes[i]!, this));
  }

  get shardLabel(): string {
    return this.query.shardLabel;
  }

  placement(node: Node): Placement {
    return this.placements.get(node)!;
  }

  /** Whether a subtree reads a shard whose replicas are merged (its leaves: merged leaves only). */
  readsMerged(placement: Placement): boolean {
    for (const shard of placement.shards) if (this.mergedShards.has(shard)) return true;
    return false;
  }

  /** The plan for a node: the first rewrite that takes it, or the router's operator over its operands' plans. */
  plan(node: Node): LogicalNode {
    for (let i = 0; i < DISTRIBUTION_REWRITES.length; i++) {
      const planned = DISTRIBUTION_REWRITES[i]!(node, this);
      if (planned !== null) return planned;
    }
    // The router's part: one small method per kind. The planner recurses through them, so their frames
    // bound the depth it handles.
    switch (node.kind) {
      case 'number': return { kind: 'number', value: node.value };
      case 'string': return { kind: 'string', value: node.value };
      case 'paren': return this.plan(node.expr);
      case 'unary': return this.unary(node);
      case 'call': return this.call(node);
      case 'aggregate': return this.aggregate(node);
      case 'binary': return this.binary(node);
      case 'subquery': return this.subquery(node);
      case 'matrixSelector': return this.rangeLeaf(node);
      default:
        throw new UnsupportedQueryError(`cannot evaluate ${JSON.stringify(this.source(node))} across shards`);
    }
  }

  /** A query for the shards; `inside` is the subtree its selectors come from. */
  remote(query: string, inside: Node, partial: boolean, raw = false): RemoteQuery {
    // A remote query inside a subquery is asked for on the subquery's grid, where `@ start()` and
    // `@ end()` would name that grid's ends instead of the query's.
    if (this.subqueryDepth > 0 && usesStartOrEnd(inside)) {
      throw new UnsupportedQueryError(`cannot evaluate @ start() or @ end() inside a subquery across shards (${JSON.stringify(query)})`);
    }
    return { kind: 'remote', query, partial, ...(raw ? { raw } : {}) };
  }

  source(node: { readonly from: number; readonly to: number }): string {
    return this.query.text.slice(node.from, node.to);
  }

  // --- the router's part ------------------------------------------------------------------------------

  private unary(node: UnaryExpr): LogicalNode {
    const inner = this.plan(node.expr);
    return node.op === '-' ? { kind: 'negate', expr: inner } : inner;
  }

  private call(node: Call): LogicalNode {
    const { name, args } = node;
    if (name === 'absent' || name === 'absent_over_time') return { kind: 'absent', expr: this.plan(args[0]!), labels: this.absentLabels(args[0]!) };
    if (!evaluatesFunction(name)) throw new UnsupportedQueryError(`cannot evaluate function ${JSON.stringify(name)} across shards`);
    const planned: LogicalNode[] = [];
    for (const arg of args) planned.push(this.plan(arg));
    return { kind: 'call', name, args: planned };
  }

  /**
   * A range selector whose function the router evaluates: the shards send its raw samples, asked once
   * for the whole grid (the range plus the grid's reach back), and the router cuts the windows.
   */
  private rangeLeaf(node: MatrixSelector): LogicalNode {
    const { selector } = node;
    if (selector.anchored || selector.smoothed) {
      throw new UnsupportedQueryError(`cannot evaluate the anchored or smoothed selector ${JSON.stringify(this.source(node))} across shards`);
    }
    const rangeMs = this.duration('range', node.range);
    const { offsetMs, at } = this.modifiers(selector);
    // With `@`, every step's window is the same one.
    const askedMs = rangeMs + (at === null ? this.spanMs : 0);
    const modifiers = [selector.offset, selector.at].filter((m) => m !== null).map((m) => ` ${this.source(m)}`).join('');
    const query = `${this.source(selector)}[${askedMs}ms]${modifiers}`;
    return { kind: 'rangeLeaf', leaf: this.remote(query, node, false, true), rangeMs, offsetMs, at };
  }

  private aggregate(node: AggregateExpr): LogicalNode {
    const { op, param, expr } = node;
    const planned = param === null ? null : this.plan(param);
    return { kind: 'aggregate', op, grouping: groupingOf(node), param: planned, expr: this.plan(expr) };
  }

  private binary(node: BinaryExpr): LogicalNode {
    if (fills(node.matching)) throw new UnsupportedQueryError(`cannot evaluate fill() modifiers across shards in ${JSON.stringify(this.source(node))}`);
    if (node.op === '</' || node.op === '>/') throw new UnsupportedQueryError(`unknown operator in ${JSON.stringify(this.source(node))}`);
    const lhs = this.plan(node.lhs);
    return { kind: 'binary', op: node.op, bool: node.bool, matching: matchingOf(node), lhs, rhs: this.plan(node.rhs) };
  }

  private subquery(node: SubqueryExpr): LogicalNode {
    const { offsetMs, at } = this.modifiers(node);
    const rangeMs = this.duration('range', node.range);
    const outerSpan = this.spanMs;
    this.subqueryDepth++;
    // The subquery's grid reaches back its range beyond the outer one's (its alignment only shortens it).
    this.spanMs = at === null ? outerSpan + rangeMs : rangeMs;
    const inner = this.plan(node.expr);
    this.spanMs = outerSpan;
    this.subqueryDepth--;
    const stepMs = node.step === null ? null : this.duration('step', node.step);
    return { kind: 'subquery', expr: inner, rangeMs, stepMs, offsetMs, at };
  }

  /** absent()'s labels: the argument selector's equality matchers, as Prometheus derives them. */
  absentLabels(arg: Node): ReturnType<typeof labelsFrom> {
    return labelsFrom(absentLabels(unwrapParens(arg)));
  }

  /** A selector's or a subquery's `offset` (in ms, 0 without one) and `@`, as the engine reads them. */
  private modifiers(node: Pick<SubqueryExpr, 'offset' | 'at'>): { offsetMs: number; at: At | null } {
    const offsetMs = node.offset === null ? 0 : this.duration('offset', node.offset.value);
    const at: At | null = node.at === null ? null : node.at.kind === 'time' ? { kind: 'time', ms: node.at.ms } : { kind: node.at.kind };
    return { offsetMs, at };
  }

  /** A range, step or offset in ms; PromQL 3's duration arithmetic (`5m*2`) is not evaluated by the router. */
  private duration(what: string, value: DurationValue): number {
    const ms = literalDurationMs(value);
    if (ms === null) {
      throw new UnsupportedQueryError(`cannot evaluate the ${what} ${JSON.stringify(this.source(value))} across shards: only plain durations are supported`);
    }
    return ms;
  }
}

function usesStartOrEnd(root: Node): boolean {
  for (const node of descendants(root)) {
    if ((node.kind === 'vectorSelector' || node.kind === 'subquery') && (node.at?.kind === 'start' || node.at?.kind === 'end')) return true;
  }
  return false;
}
