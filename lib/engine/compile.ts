// Splits a query across shards: the largest subtrees each shard can evaluate on its own data become
// leaves (sent to the shards, answers united with the shard label); what remains above them is
// evaluated by the router. Aggregations that drop the shard label are pushed down as partial
// aggregates where that is exact (sum, count, min, max, group, topk, bottomk, count_values, and avg
// and stddev/stdvar from their parts), so only small answers cross the network.
import type { SyntaxNode } from '@lezer/common';
import { parseDurationParam } from '../api/duration.ts';
import { seriesArgumentIndex } from '../promql/functions.ts';
import { UnsupportedQueryError } from '../promql/labels.ts';
import { PromQLSyntaxError } from '../promql/parse.ts';
import { planQuery, type QueryPlan } from '../promql/plan.ts';
import { quote, unquote } from '../promql/strings.ts';
import {
  callArguments, child, children, expressionChildren, functionName, groupingLabels, nodeKey, stringArgument,
} from '../promql/syntax.ts';
import { valueType } from '../promql/types.ts';
import type { AggregateOp, At, BinaryOp, Expr, Grouping, Leaf, Matching } from './expr.ts';
import { labelsFrom, METRIC_NAME } from './labels.ts';

/** What the router must know about a subtree to decide where it is evaluated. */
interface Info {
  readonly shards: ReadonlySet<string>;
  /** The subtree reads no series: a number, `time()`, `vector(1)`. */
  readonly constant: boolean;
  /** Each shard can evaluate it on its own data and the global answer is the union of theirs. */
  readonly separable: boolean;
  /** Separable, and every series of a shard's answer carries the shard label with that shard's name. */
  readonly keyed: boolean;
}

/** Functions whose answer depends on all input series at once. */
const WHOLE_VECTOR_FUNCTIONS = new Set([
  'absent', 'absent_over_time', 'scalar', 'sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc', 'vector',
]);

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Atan2: 'atan2', Eql: '==', Neq: '!=', Gtr: '>',
  Lss: '<', Gte: '>=', Lte: '<=', And: 'and', Or: 'or', Unless: 'unless',
};

/** Aggregations whose per-shard partial answers combine exactly with the same (or a summing) aggregation. */
const COMBINE_PARTIALS: Partial<Record<AggregateOp, AggregateOp>> = {
  sum: 'sum', count: 'sum', min: 'min', max: 'max', group: 'group', count_values: 'sum',
};

/** Aggregations that take a parameter before the vector: topk(k, v), quantile(φ, v), ... */
const PARAMETERISED = new Set(['topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio']);

const ANY_LABELS: Grouping = { without: true, labels: [] };

export interface CompiledQuery {
  readonly expr: Expr;
  readonly leaves: readonly Leaf[];
}

export interface CompileOptions {
  /** Push decomposable aggregations down as partial aggregates (default). Off: shards send all series. */
  readonly pushDown?: boolean;
}

export function compileQuery(plan: QueryPlan, shardNames: readonly string[], options: CompileOptions = {}): CompiledQuery {
  const compiler = new Compiler(plan, shardNames, options.pushDown ?? true);
  const expr = compiler.compile(plan.root);
  return { expr, leaves: compiler.leaves };
}

class Compiler {
  readonly leaves: Leaf[] = [];
  private readonly infos = new Map<string, Info>();
  /** How many subqueries enclose the node being compiled: their leaves run on the subquery's own grid. */
  private subqueryDepth = 0;
  private readonly text: string;
  private readonly label: string;

  constructor(
    private readonly plan: QueryPlan,
    private readonly shardNames: readonly string[],
    private readonly pushDown: boolean,
  ) {
    this.text = plan.text;
    this.label = plan.shardLabel;
  }

  compile(node: SyntaxNode): Expr {
    const info = this.info(node);
    if (!info.constant && info.separable) return { kind: 'leaf', leaf: this.leaf(this.source(node), false) };
    const name = node.type.name;
    switch (name) {
      case 'NumberDurationLiteral': return { kind: 'number', value: parseNumber(this.source(node)) };
      case 'StringLiteral': return { kind: 'string', value: unquote(this.source(node)) };
      case 'ParenExpr': return this.compile(this.inner(node));
      case 'UnaryExpr': {
        const inner = this.compile(this.inner(node));
        return this.source(node).trimStart().startsWith('-') ? { kind: 'negate', expr: inner } : inner;
      }
      case 'FunctionCall': return this.call(node);
      case 'AggregateExpr': return this.aggregate(node);
      case 'BinaryExpr': return this.binary(node);
      case 'SubqueryExpr': case 'OffsetExpr': case 'StepInvariantExpr': return this.subquery(node);
      default:
        throw new UnsupportedQueryError(`cannot evaluate ${JSON.stringify(this.source(node))} across shards`);
    }
  }

  // --- where each subtree can be evaluated ---------------------------------------------------------

  private info(node: SyntaxNode): Info {
    const key = nodeKey(node);
    let info = this.infos.get(key);
    if (info === undefined) {
      info = this.classify(node);
      this.infos.set(key, info);
    }
    return info;
  }

  private classify(node: SyntaxNode): Info {
    const name = node.type.name;
    if (name === 'VectorSelector') {
      const selector = this.plan.selectors.find((s) => s.node.from === node.from && s.node.to === node.to)!;
      return { shards: new Set(this.plan.shardsOf(selector)), constant: false, separable: true, keyed: true };
    }
    if (name === 'NumberDurationLiteral' || name === 'StringLiteral') return CONSTANT;
    const operands = name === 'FunctionCall' || name === 'AggregateExpr' ? callArguments(node) : expressionChildren(node);
    const infos = operands.map((o) => this.info(o));
    const shards = new Set(infos.flatMap((i) => [...i.shards]));
    const constant = infos.every((i) => i.constant);
    if (constant) return { ...CONSTANT, shards };
    const result = (separable: boolean, keyed = separable): Info => ({ shards, constant, separable, keyed: separable && keyed });

    switch (name) {
      case 'FunctionCall': {
        const fn = functionName(node, this.text);
        const args = callArguments(node);
        const argInfo = args.map((a) => this.info(a));
        if (WHOLE_VECTOR_FUNCTIONS.has(fn)) return result(false);
        const seriesIndex = fn === 'histogram_quantile' ? 1 : seriesArgumentIndex(fn);
        const series = argInfo[seriesIndex];
        const othersConstant = argInfo.every((i, index) => index === seriesIndex || i.constant);
        if (series === undefined || !othersConstant) return result(false);
        // histogram_quantile groups buckets by their other labels: only shard-keyed buckets stay apart.
        if (fn === 'histogram_quantile') return result(series.keyed);
        if (fn === 'label_replace' || fn === 'label_join') {
          return result(series.separable, series.keyed && !this.labelFunctionTouchesShardLabel(fn, args));
        }
        return result(series.separable, series.keyed);
      }
      case 'AggregateExpr': {
        const { op, grouping, params, vector } = this.aggregateParts(node);
        const inner = this.info(vector);
        const keepsShard = grouping.without !== grouping.labels.includes(this.label);
        const writesShardLabel = op === 'count_values' && stringArgument(params[0], this.text) === this.label;
        const paramsConstant = params.every((p) => this.info(p).constant);
        return result(inner.keyed && keepsShard && paramsConstant && !writesShardLabel);
      }
      case 'BinaryExpr': {
        if (child(node, 'FillModifier') !== null) return result(false);
        const [lhs, rhs] = [operands[0]!, operands[operands.length - 1]!];
        if (lhs === undefined || rhs === undefined) return result(false);
        const [l, r] = [this.info(lhs), this.info(rhs)];
        if (valueType(lhs, this.text) === 'scalar') return l.constant ? result(r.separable, r.keyed) : result(false);
        if (valueType(rhs, this.text) === 'scalar') return r.constant ? result(l.separable, l.keyed) : result(false);
        // Two vectors: separable when series can only match within a shard.
        return result(l.keyed && r.keyed && this.matching(node).matchesOnShardLabel);
      }
      case 'MatrixSelector': case 'ParenExpr': case 'OffsetExpr': case 'StepInvariantExpr': case 'SubqueryExpr':
      case 'UnaryExpr': case 'SmoothedExpr': case 'AnchoredExpr':
        return infos[0]!;
      default:
        return result(false);
    }
  }

  private labelFunctionTouchesShardLabel(fn: string, args: SyntaxNode[]): boolean {
    const labelArgs = fn === 'label_replace' ? [args[1], args[3]] : [args[1], ...args.slice(3)];
    return labelArgs.some((a) => {
      const value = stringArgument(a, this.text);
      return value === null ? a !== undefined : value === this.label;
    });
  }

  // --- the router's part ----------------------------------------------------------------------------

  private call(node: SyntaxNode): Expr {
    const fn = functionName(node, this.text);
    const args = callArguments(node);
    if (fn === 'absent' || fn === 'absent_over_time') {
      if (args.length !== 1) {
        throw new PromQLSyntaxError(node.from, `expected 1 argument(s) in call to "${fn}", got ${args.length}`, this.text);
      }
      return this.absent(fn, args[0]);
    }
    return { kind: 'call', name: fn, args: args.map((a) => this.compileArgument(a)) };
  }

  /** Range-vector arguments evaluated by the router must be subqueries; anything else compiles as usual. */
  private compileArgument(node: SyntaxNode): Expr {
    if (valueType(node, this.text) === 'matrix' && this.unwrapModifiers(node).type.name === 'MatrixSelector') {
      throw new UnsupportedQueryError(
        `cannot evaluate ${JSON.stringify(this.source(node))} across shards when the function's other arguments read series`,
      );
    }
    return this.compile(node);
  }

  /**
   * absent(v) is empty when v has series on any shard. The shards need only say whether they have any:
   * `count(v)`, a row per shard at most. Labels come from the selector's matchers as in Prometheus.
   */
  private absent(fn: string, arg: SyntaxNode | undefined): Expr {
    if (arg === undefined) throw new UnsupportedQueryError(`${fn}() needs an argument`);
    const labels = this.absentLabels(arg);
    const info = this.info(arg);
    if (!info.constant && info.separable) {
      const inner = withClosable(this.source(arg));
      const probe = fn === 'absent' ? `count(${inner})` : `count(count_over_time(${inner}))`;
      return { kind: 'absent', expr: { kind: 'leaf', leaf: this.leaf(probe, true) }, labels };
    }
    return { kind: 'absent', expr: this.compile(arg), labels };
  }

  private absentLabels(arg: SyntaxNode): ReturnType<typeof labelsFrom> {
    let node = this.unwrapModifiers(arg);
    if (node.type.name === 'MatrixSelector') node = child(node, 'VectorSelector') ?? node;
    if (node.type.name !== 'VectorSelector') return {};
    const selector = this.plan.selectors.find((s) => s.node.from === node.from && s.node.to === node.to);
    const values = new Map<string, string>();
    const set = new Set<string>();
    for (const m of selector?.matchers ?? []) {
      if (m.name === METRIC_NAME) continue;
      if (m.op === '=' && !set.has(m.name)) {
        values.set(m.name, m.value);
        set.add(m.name);
      } else {
        values.delete(m.name);
      }
    }
    return labelsFrom(values);
  }

  private aggregate(node: SyntaxNode): Expr {
    const { op, grouping, params, vector } = this.aggregateParts(node);
    const inner = this.info(vector);
    const param = params[0] === undefined ? null : this.compile(params[0]);
    const pushable = this.pushDown && !inner.constant && inner.separable && params.every((p) => this.info(p).constant);
    if (!pushable) return { kind: 'aggregate', op, grouping, param, expr: this.compile(vector) };

    const body = this.source(vector);
    const prefix = params.map((p) => `${this.source(p)}, `).join('');
    const partial = (partialOp: string) =>
      ({ kind: 'leaf', leaf: this.leaf(`${partialOp}${groupingText(grouping)} (${prefix}${withClosable(body)})`, true) }) as const;
    const combine = COMBINE_PARTIALS[op];
    if (combine !== undefined) return { kind: 'aggregate', op: combine, grouping: ANY_LABELS, param: null, expr: partial(op) };
    switch (op) {
      case 'topk': case 'bottomk':
        return { kind: 'aggregate', op, grouping, param, expr: partial(op) };
      case 'avg':
        return {
          kind: 'binary', op: '/', bool: false, matching: { card: 'one-to-one', on: false, labels: [], include: [] },
          lhs: { kind: 'aggregate', op: 'sum', grouping: ANY_LABELS, param: null, expr: partial('sum') },
          rhs: { kind: 'aggregate', op: 'sum', grouping: ANY_LABELS, param: null, expr: partial('count') },
        };
      case 'stddev': case 'stdvar':
        return { kind: 'mergeVariance', op, count: partial('count'), mean: partial('avg'), variance: partial('stdvar') };
      default:
        // quantile needs every value: the shards send the series, the router aggregates.
        return { kind: 'aggregate', op, grouping, param, expr: { kind: 'leaf', leaf: this.leaf(body, false) } };
    }
  }

  private aggregateParts(node: SyntaxNode) {
    const op = this.source(node.firstChild!).toLowerCase() as AggregateOp;
    const args = callArguments(node);
    const modifier = child(node, 'AggregateModifier');
    const grouping: Grouping = {
      without: modifier !== null && child(modifier, 'Without') !== null,
      labels: modifier === null ? [] : groupingLabels(child(modifier, 'GroupingLabels'), this.text),
    };
    const expected = PARAMETERISED.has(op) ? 2 : 1;
    if (args.length !== expected) {
      const message = args.length === 0
        ? 'no arguments for aggregate expression provided'
        : `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`;
      throw new PromQLSyntaxError(node.from, message, this.text);
    }
    return { op, grouping, params: args.slice(0, -1), vector: args[args.length - 1]! };
  }

  private binary(node: SyntaxNode): Expr {
    if (child(node, 'FillModifier') !== null) {
      throw new UnsupportedQueryError(`cannot evaluate fill() modifiers across shards in ${JSON.stringify(this.source(node))}`);
    }
    const operands = expressionChildren(node);
    const lhs = operands[0]!;
    const op = BINARY_OPS[lhs.nextSibling!.type.name];
    if (op === undefined) throw new UnsupportedQueryError(`unknown operator in ${JSON.stringify(this.source(node))}`);
    return {
      kind: 'binary',
      op,
      bool: child(node, 'BoolModifier') !== null,
      matching: this.matching(node).matching,
      lhs: this.compile(lhs),
      rhs: this.compile(operands[operands.length - 1]!),
    };
  }

  private matching(node: SyntaxNode): { matching: Matching; matchesOnShardLabel: boolean } {
    const clause = child(node, 'MatchingModifierClause');
    const lists = clause === null ? [] : children(clause).filter((c) => c.type.name === 'GroupingLabels');
    const on = clause !== null && child(clause, 'On') !== null;
    const labels = groupingLabels(lists[0] ?? null, this.text);
    const include = groupingLabels(lists[1] ?? null, this.text);
    const opName = expressionChildren(node)[0]!.nextSibling!.type.name;
    const card = opName === 'And' || opName === 'Or' || opName === 'Unless'
      ? 'many-to-many'
      : clause !== null && child(clause, 'GroupLeft') !== null
        ? 'many-to-one'
        : clause !== null && child(clause, 'GroupRight') !== null ? 'one-to-many' : 'one-to-one';
    return {
      matching: { card, on, labels, include },
      matchesOnShardLabel: on ? labels.includes(this.label) : !labels.includes(this.label),
    };
  }

  /** A subquery over an expression the router evaluates, with its offset and @ modifier. */
  private subquery(node: SyntaxNode): Expr {
    let offsetMs = 0;
    let at: At | null = null;
    let current = node;
    for (;;) {
      if (current.type.name === 'OffsetExpr') {
        const clause = child(current, 'OffsetDurationExpr');
        const text = clause === null ? '' : this.source(clause).trim();
        offsetMs += text.startsWith('-') ? -duration('offset', text.slice(1)) : duration('offset', text);
      } else if (current.type.name === 'StepInvariantExpr') {
        at = this.atModifier(current);
      } else {
        break;
      }
      current = expressionChildren(current)[0]!;
    }
    if (current.type.name === 'BinaryExpr') {
      // lezer-promql reads `a - b offset 1h` as `(a - b) offset 1h`; Prometheus binds the modifier to
      // `b`. Such a query is only answered where it needs no regrouping: whole, as one leaf.
      throw new UnsupportedQueryError(
        `cannot evaluate ${JSON.stringify(this.source(node))} across shards: put the selector with its modifier in parentheses`,
      );
    }
    if (current.type.name !== 'SubqueryExpr') {
      // Only selectors (inside leaves) and subqueries take modifiers; Prometheus rejects the rest.
      const modifier = node.type.name === 'OffsetExpr' ? 'offset' : '@';
      throw new PromQLSyntaxError(node.from, `${modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery`, this.text);
    }
    const durations = children(current).filter((c) => c.type.name === 'DurationExpr').map((d) => this.source(d));
    this.subqueryDepth++;
    const inner = this.compile(expressionChildren(current)[0]!);
    this.subqueryDepth--;
    return {
      kind: 'subquery',
      expr: inner,
      rangeMs: duration('range', durations[0] ?? ''),
      stepMs: durations[1] === undefined ? null : duration('step', durations[1]),
      offsetMs,
      at,
    };
  }

  private atModifier(node: SyntaxNode): At {
    const preprocessor = child(node, 'AtModifierPreprocessors');
    if (preprocessor !== null) return { kind: this.source(preprocessor).startsWith('start') ? 'start' : 'end' };
    const literal = expressionChildren(node)[1];
    return { kind: 'time', ms: Math.round(parseNumber(literal === undefined ? '' : this.source(literal)) * 1000) };
  }

  // --- helpers ---------------------------------------------------------------------------------------

  private leaf(text: string, partial: boolean): Leaf {
    const plan = planQuery(text, this.label, this.shardNames);
    // A leaf inside a subquery is asked for on the subquery's grid, where `@ start()` and `@ end()`
    // would name that grid's ends instead of the query's.
    if (this.subqueryDepth > 0 && hasNode(plan.root, 'AtModifierPreprocessors')) {
      throw new UnsupportedQueryError(`cannot evaluate @ start() or @ end() inside a subquery across shards (${JSON.stringify(text)})`);
    }
    const leaf: Leaf = { id: this.leaves.length, plan, shards: plan.shards, partial };
    this.leaves.push(leaf);
    return leaf;
  }

  private inner(node: SyntaxNode): SyntaxNode {
    return expressionChildren(node)[0]!;
  }

  private unwrapModifiers(node: SyntaxNode): SyntaxNode {
    let current = node;
    while (['OffsetExpr', 'StepInvariantExpr', 'ParenExpr'].includes(current.type.name)) current = this.inner(current);
    return current;
  }

  private source(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }
}

function hasNode(root: SyntaxNode, name: string): boolean {
  const cursor = root.cursor();
  do {
    if (cursor.type.name === name) return true;
  } while (cursor.next() && cursor.from < root.to);
  return false;
}

const CONSTANT: Info = { shards: new Set(), constant: true, separable: false, keyed: false };

/** ` by (a, b)`, ` without (c)`, or nothing: the grouping clause as PromQL text. */
export function groupingText(grouping: Grouping): string {
  if (!grouping.without && grouping.labels.length === 0) return '';
  const names = grouping.labels.map((l) => (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l) ? l : quote(l)));
  return ` ${grouping.without ? 'without' : 'by'} (${names.join(', ')})`;
}

/** PromQL number literals: decimal, hexadecimal, Inf and NaN in any case, and (PromQL 3) durations. */
export function parseNumber(text: string): number {
  const t = text.trim();
  const sign = t.startsWith('-') ? -1 : 1;
  const body = t.replace(/^[+-]/, '');
  if (/^inf$/i.test(body)) return sign * Infinity;
  if (/^nan$/i.test(body)) return NaN;
  // Go's number syntax allows underscores between digits (1_000).
  const n = Number(/^\d(_?\d)*(\.\d(_?\d)*)?$/.test(body) ? body.replaceAll('_', '') : body);
  if (body !== '' && !Number.isNaN(n)) return sign * n;
  return (sign * duration('number', body)) / 1000;
}

/** A literal duration; PromQL 3's duration arithmetic (`5m*2`) is not evaluated by the router. */
function duration(what: string, text: string): number {
  try {
    return parseDurationParam(what, text);
  } catch {
    throw new UnsupportedQueryError(`cannot evaluate the ${what} ${JSON.stringify(text)} across shards: only plain durations are supported`);
  }
}

/** Text to put inside parentheses: a # comment in it would swallow the closing one without a line break. */
function withClosable(text: string): string {
  return text.includes('#') ? `${text}\n` : text;
}
