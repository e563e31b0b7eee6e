// Splits a query across shards: the largest subtrees each shard can evaluate on its own data become
// leaves (sent to the shards, answers united with the shard label); what remains above them is
// evaluated by the router. Aggregations that drop the shard label are pushed down as partial
// aggregates where that is exact (sum, count, min, max, group, topk, bottomk, count_values, and avg
// and stddev/stdvar from their parts), so only small answers cross the network.
import {
  descendants, literalDurationMs, type AggregateExpr, type BinaryExpr, type Call, type DurationValue, type Expr as Node,
  type SubqueryExpr, type VectorSelector,
} from '../promql/ast.ts';
import { promqlFunction, type Major } from '../promql/functions.ts';
import { absentSelector, labelFunctionTouches, stringArgument, UnsupportedQueryError } from '../promql/labels.ts';
import { planQuery, type QueryPlan } from '../promql/plan.ts';
import { quote } from '../promql/strings.ts';
import { valueType } from '../promql/types.ts';
import { rawForm } from '../replicas/raw-form.ts';
import { evaluatesFunction } from './execution/functions.ts';
import type { AggregateOp, At, Expr, Grouping, Leaf, Matching } from './expr.ts';
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

/** Aggregations whose per-shard partial answers combine exactly with the same (or a summing) aggregation. */
const COMBINE_PARTIALS: Partial<Record<AggregateOp, AggregateOp>> = {
  sum: 'sum', count: 'sum', min: 'min', max: 'max', group: 'group', count_values: 'sum',
};

const ANY_LABELS: Grouping = { without: true, labels: [] };

export interface CompiledQuery {
  readonly expr: Expr;
  readonly leaves: readonly Leaf[];
}

export interface CompileOptions {
  /** Push decomposable aggregations down as partial aggregates (default). Off: shards send all series. */
  readonly pushDown?: boolean;
  /** The shards' Prometheus major, whose rules the query must meet (default 2, the collectors' here). */
  readonly major?: Major;
  /**
   * Shards whose leaves the router computes from raw samples (replicas merged, lib/replicas): their
   * leaves are only selectors and range functions over selectors (raw-form.ts); nothing else is pushed
   * down to them.
   */
  readonly rawShards?: ReadonlySet<string>;
}

/**
 * Throws PromQLSyntaxError where a global Prometheus of the shards' major refuses the query, and
 * UnsupportedQueryError (422) for what the router cannot evaluate, a function it does not know first.
 */
export function compileQuery(plan: QueryPlan, shardNames: readonly string[], options: CompileOptions = {}): CompiledQuery {
  for (const node of descendants(plan.root)) {
    if (node.kind === 'call' && promqlFunction(node.name) === undefined) {
      throw new UnsupportedQueryError(`unknown function ${JSON.stringify(node.name)}: the router cannot evaluate it across shards`);
    }
  }
  plan.checkFor(options.major ?? 2);
  const compiler = new Compiler(plan, shardNames, options.pushDown ?? true, options.rawShards ?? new Set());
  compiler.classifyAll(plan.root);
  const expr = compiler.compile(plan.root);
  return { expr, leaves: compiler.leaves };
}

class Compiler {
  readonly leaves: Leaf[] = [];
  private readonly infos = new Map<Node, Info>();
  /** How many subqueries enclose the node being compiled: their leaves run on the subquery's own grid. */
  private subqueryDepth = 0;
  private readonly text: string;
  private readonly label: string;

  constructor(
    private readonly plan: QueryPlan,
    private readonly shardNames: readonly string[],
    private readonly pushDown: boolean,
    private readonly rawShards: ReadonlySet<string>,
  ) {
    this.text = plan.text;
    this.label = plan.shardLabel;
  }

  compile(node: Node): Expr {
    const info = this.info(node);
    if (!info.constant && info.separable) return { kind: 'leaf', leaf: this.leaf(this.source(node), false) };
    switch (node.kind) {
      case 'number': return { kind: 'number', value: node.value };
      case 'string': return { kind: 'string', value: node.value };
      case 'paren': return this.compile(node.expr);
      case 'unary': {
        const inner = this.compile(node.expr);
        return node.op === '-' ? { kind: 'negate', expr: inner } : inner;
      }
      case 'call': return this.call(node);
      case 'aggregate': return this.aggregate(node);
      case 'binary': return this.binary(node);
      case 'subquery': return this.subquery(node);
      default:
        throw new UnsupportedQueryError(`cannot evaluate ${JSON.stringify(this.source(node))} across shards`);
    }
  }

  // --- where each subtree can be evaluated ---------------------------------------------------------

  /** Classifies every node, operands before the nodes that use them: no recursion, whatever the depth. */
  classifyAll(root: Node): void {
    const nodes = [...descendants(root)];
    for (let i = nodes.length - 1; i >= 0; i--) this.info(nodes[i]!);
  }

  private info(node: Node): Info {
    let info = this.infos.get(node);
    if (info === undefined) {
      info = this.classify(node);
      if (info.separable && this.readsRaw(info) && rawForm(node) === null) info = { ...info, separable: false, keyed: false };
      this.infos.set(node, info);
    }
    return info;
  }

  private classify(node: Node): Info {
    if (node.kind === 'vectorSelector') {
      return { shards: new Set(this.plan.shardsOf(node)), constant: false, separable: true, keyed: true };
    }
    if (node.kind === 'number' || node.kind === 'string') return CONSTANT;
    const operands = operandsOf(node);
    const infos = operands.map((o) => this.info(o));
    const shards = new Set(infos.flatMap((i) => [...i.shards]));
    const constant = infos.every((i) => i.constant);
    if (constant) return { ...CONSTANT, shards };
    const result = (separable: boolean, keyed = separable): Info => ({ shards, constant, separable, keyed: separable && keyed });

    switch (node.kind) {
      case 'call': {
        const f = promqlFunction(node.name)!;
        const argInfo = node.args.map((a) => this.info(a));
        if (f.readsWholeVector) return result(false);
        const seriesIndex = f.seriesArgument;
        const series = argInfo[seriesIndex];
        const othersConstant = argInfo.every((i, index) => index === seriesIndex || i.constant);
        if (series === undefined || !othersConstant) return result(false);
        // histogram_quantile groups buckets by their other labels: only shard-keyed buckets stay apart.
        if (f.groupsBuckets) return result(series.keyed);
        if (f.name === 'label_replace' || f.name === 'label_join') {
          return result(series.separable, series.keyed && !labelFunctionTouches(node, this.label));
        }
        return result(series.separable, series.keyed);
      }
      case 'aggregate': {
        const { op, grouping, param, expr: vector } = node;
        const inner = this.info(vector);
        const keepsShard = groupingOf(node).without !== (grouping?.labels.includes(this.label) ?? false);
        const writesShardLabel = op === 'count_values' && stringArgument(param) === this.label;
        const paramsConstant = param === null || this.info(param).constant;
        return result(inner.keyed && keepsShard && paramsConstant && !writesShardLabel);
      }
      case 'binary': {
        if (hasFill(node)) return result(false);
        const { lhs, rhs } = node;
        const [l, r] = [this.info(lhs), this.info(rhs)];
        if (valueType(lhs) === 'scalar') return l.constant ? result(r.separable, r.keyed) : result(false);
        if (valueType(rhs) === 'scalar') return r.constant ? result(l.separable, l.keyed) : result(false);
        // Two vectors: separable when series can only match within a shard.
        return result(l.keyed && r.keyed && this.matching(node).matchesOnShardLabel);
      }
      case 'matrixSelector': case 'paren': case 'subquery': case 'unary':
        return infos[0]!;
      default:
        return result(false);
    }
  }

  /** Whether a subtree reads a shard whose leaves must be raw forms. */
  private readsRaw(info: Info): boolean {
    for (const shard of info.shards) if (this.rawShards.has(shard)) return true;
    return false;
  }

  // --- the router's part ----------------------------------------------------------------------------

  private call(node: Call): Expr {
    const { name, args } = node;
    if (name === 'absent' || name === 'absent_over_time') return this.absent(name, args[0]);
    if (!evaluatesFunction(name)) {
      throw new UnsupportedQueryError(`cannot evaluate function ${JSON.stringify(name)} across shards`);
    }
    const compiled: Expr[] = [];
    for (const arg of args) compiled.push(this.compileArgument(arg));
    return { kind: 'call', name, args: compiled };
  }

  /** Range-vector arguments evaluated by the router must be subqueries; anything else compiles as usual. */
  private compileArgument(node: Node): Expr {
    if (valueType(node) === 'matrix' && unwrapParens(node).kind === 'matrixSelector') {
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
  private absent(fn: string, arg: Node | undefined): Expr {
    if (arg === undefined) throw new UnsupportedQueryError(`${fn}() needs an argument`);
    const labels = this.absentLabels(arg);
    const info = this.info(arg);
    if (!info.constant && info.separable) {
      const inner = withClosable(this.source(arg));
      // Raw leaves cannot be counted by the shard: the router looks at the series themselves.
      const raw = this.readsRaw(info);
      const probe = fn === 'absent' ? (raw ? inner : `count(${inner})`) : raw ? `count_over_time(${inner})` : `count(count_over_time(${inner}))`;
      return { kind: 'absent', expr: { kind: 'leaf', leaf: this.leaf(probe, true) }, labels };
    }
    return { kind: 'absent', expr: this.compile(arg), labels };
  }

  private absentLabels(arg: Node): ReturnType<typeof labelsFrom> {
    const selector = absentSelector(unwrapParens(arg));
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

  private aggregate(node: AggregateExpr): Expr {
    const { op: written, param: paramNode, expr: vector } = node;
    if (written === 'limitk' || written === 'limit_ratio') {
      throw new UnsupportedQueryError(`cannot evaluate ${written}() across shards`);
    }
    const op: AggregateOp = written;
    const grouping = groupingOf(node);
    const params = paramNode === null ? [] : [paramNode];
    const inner = this.info(vector);
    const param = paramNode === null ? null : this.compile(paramNode);
    const pushable = this.pushDown && !inner.constant && inner.separable && !this.readsRaw(inner) && params.every((p) => this.info(p).constant);
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

  private binary(node: BinaryExpr): Expr {
    if (hasFill(node)) {
      throw new UnsupportedQueryError(`cannot evaluate fill() modifiers across shards in ${JSON.stringify(this.source(node))}`);
    }
    if (node.op === '</' || node.op === '>/') throw new UnsupportedQueryError(`unknown operator in ${JSON.stringify(this.source(node))}`);
    return {
      kind: 'binary',
      op: node.op,
      bool: node.bool,
      matching: this.matching(node).matching,
      lhs: this.compile(node.lhs),
      rhs: this.compile(node.rhs),
    };
  }

  private matching(node: BinaryExpr): { matching: Matching; matchesOnShardLabel: boolean } {
    const { card, on, labels, include } = node.matching;
    return {
      matching: { card, on, labels, include },
      matchesOnShardLabel: on ? labels.includes(this.label) : !labels.includes(this.label),
    };
  }

  /** A subquery over an expression the router evaluates, with its offset and @ modifier. */
  private subquery(node: SubqueryExpr): Expr {
    const offsetMs = node.offset === null ? 0 : duration('offset', node.offset.value, this.text);
    const at: At | null = node.at === null ? null : node.at.kind === 'time' ? { kind: 'time', ms: node.at.ms } : { kind: node.at.kind };
    this.subqueryDepth++;
    const inner = this.compile(node.expr);
    this.subqueryDepth--;
    return {
      kind: 'subquery',
      expr: inner,
      rangeMs: duration('range', node.range, this.text),
      stepMs: node.step === null ? null : duration('step', node.step, this.text),
      offsetMs,
      at,
    };
  }

  // --- helpers ---------------------------------------------------------------------------------------

  private leaf(text: string, partial: boolean): Leaf {
    const plan = planQuery(text, this.label, this.shardNames);
    // A leaf inside a subquery is asked for on the subquery's grid, where `@ start()` and `@ end()`
    // would name that grid's ends instead of the query's.
    if (this.subqueryDepth > 0 && usesStartOrEnd(plan.root)) {
      throw new UnsupportedQueryError(`cannot evaluate @ start() or @ end() inside a subquery across shards (${JSON.stringify(text)})`);
    }
    const leaf: Leaf = { id: this.leaves.length, plan, shards: plan.shards, partial };
    this.leaves.push(leaf);
    return leaf;
  }

  private source(node: Node): string {
    return this.text.slice(node.from, node.to);
  }
}

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

function groupingOf(node: AggregateExpr): Grouping {
  return { without: node.grouping?.without ?? false, labels: node.grouping?.labels ?? [] };
}

function hasFill(node: BinaryExpr): boolean {
  return node.matching.fillLeft !== null || node.matching.fillRight !== null;
}

function unwrapParens(node: Node): Node {
  let current = node;
  while (current.kind === 'paren') current = current.expr;
  return current;
}

function usesStartOrEnd(root: Node): boolean {
  for (const node of descendants(root)) {
    const modified: VectorSelector | SubqueryExpr | null = node.kind === 'vectorSelector' || node.kind === 'subquery' ? node : null;
    if (modified?.at?.kind === 'start' || modified?.at?.kind === 'end') return true;
  }
  return false;
}

const CONSTANT: Info = { shards: new Set(), constant: true, separable: false, keyed: false };

/** ` by (a, b)`, ` without (c)`, or nothing: the grouping clause as PromQL text. */
export function groupingText(grouping: Grouping): string {
  if (!grouping.without && grouping.labels.length === 0) return '';
  const names = grouping.labels.map((l) => (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l) ? l : quote(l)));
  return ` ${grouping.without ? 'without' : 'by'} (${names.join(', ')})`;
}

/** A range, step or offset in ms; PromQL 3's duration arithmetic (`5m*2`) is not evaluated by the router. */
function duration(what: string, value: DurationValue, text: string): number {
  const ms = literalDurationMs(value);
  if (ms === null) {
    const source = JSON.stringify(text.slice(value.from, value.to));
    throw new UnsupportedQueryError(`cannot evaluate the ${what} ${source} across shards: only plain durations are supported`);
  }
  return ms;
}

/** Text to put inside parentheses: a # comment in it would swallow the closing one without a line break. */
function withClosable(text: string): string {
  return text.includes('#') ? `${text}\n` : text;
}
