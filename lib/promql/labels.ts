// Label provenance: where does a global Prometheus's answer carry the shard label?
//
// A collector's series lack the shard label. For a query sent to shard S, every node of the tree is
// in one of two states:
//   - exact (null): the collector's answer for this node has the same labels as the global answer;
//   - add(v): the global answer is the collector's with `<label>="v"` added to every series.
// Selectors routed to S start as add(S). Each operator maps its operands' states to its own, following
// Prometheus's label rules (aggregation grouping, vector matching, absent's label derivation, ...).
// Where an operator would behave differently without the label (a join on it, `or` of labelled and
// unlabelled series, label_replace reading it), the operand is *materialised*: wrapped in
// label_replace(<operand>, "<label>", "v", "", "") so the collector itself attaches the label and
// computes the operator exactly. The root's state tells the router whether to add the label to the
// collector's answer. Modifiers (offset, @) are part of the selector or subquery they follow, as in
// Prometheus, so a wrapper never separates one from its expression.
import { UnsupportedQueryError } from '../errors.ts';
import type { AggregateExpr, BinaryExpr, Call, Expr, VectorSelector } from './ast.ts';
import { fills } from './ast.ts';
import { promqlFunction } from './function-table.ts';
import { valueType } from './types.ts';

const METRIC_NAME = '__name__';

export type LabelState = string | null;

const KEEP_SERIES_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

/** The string an argument is written as, if it is a string literal (label_replace's label names, ...). */
export function stringArgument(node: Expr | undefined | null): string | null {
  return node?.kind === 'string' ? node.value : null;
}

/**
 * The label-name arguments of label_replace(v, dst, replacement, src, regex) and label_join(v, dst,
 * separator, src...): does the function read or write the shard label? A name that is not a plain
 * literal could be anything: assume it is the shard label.
 */
export function labelFunctionTouches(call: Call, label: string): boolean {
  const args = call.args;
  const names = call.name === 'label_replace' ? [args[1], args[3]] : [args[1], ...args.slice(3)];
  return names.some((a) => {
    const value = stringArgument(a);
    return value === null ? a !== undefined : value === label;
  });
}

/** An expression without the parentheses around it (Prometheus unwraps them before evaluating). */
export function unwrapParens(node: Expr): Expr {
  let current = node;
  while (current.kind === 'paren') current = current.expr;
  return current;
}

/**
 * The labels absent()/absent_over_time() give their answer, from the equality matchers of a selector
 * argument as Prometheus 2.42 derives them (createLabelsForAbsentFunction, which sees the argument
 * without its parentheses): the first `=` matcher of a label sets it, any later matcher of that label
 * removes it; `__name__` and empty values never count. Every layer reads absent()'s labels here.
 */
export function absentLabels(arg: Expr | undefined): Map<string, string> {
  const unwrapped = arg === undefined ? null : unwrapParens(arg);
  const selector = unwrapped?.kind === 'vectorSelector' ? unwrapped : unwrapped?.kind === 'matrixSelector' ? unwrapped.selector : null;
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
  for (const [name, value] of values) if (value === '') values.delete(name);
  return values;
}

/**
 * Whether a vector matching matches series on `label`: unless `on(...)` leaves it out or `ignoring(...)`
 * names it. Every layer reads the matching clause here.
 */
export function matchesOnLabel(matching: BinaryExpr['matching'], label: string): boolean {
  return matching.on ? matching.labels.includes(label) : !matching.labels.includes(label);
}

export class LabelAnalysis {
  /** Nodes to wrap in label_replace, with the shard label value to attach. */
  readonly materialised = new Map<Expr, string>();

  constructor(
    private readonly text: string,
    private readonly label: string,
    /** The state of a selector: the target shard if the selector is routed to it, else null. */
    private readonly selectorState: (selector: VectorSelector) => LabelState,
  ) {}

  state(node: Expr): LabelState {
    switch (node.kind) {
      case 'vectorSelector': return this.selectorState(node);
      case 'matrixSelector': return this.state(node.selector);
      case 'subquery': case 'paren': case 'unary': return this.state(node.expr);
      case 'number': case 'string': case 'durationExpr': return null;
      case 'call': return this.call(node);
      case 'aggregate': return this.aggregate(node);
      case 'binary': return this.binary(node);
    }
  }

  private call(node: Call): LabelState {
    const { name, args } = node;
    // A loop, not map: nested calls recurse through here (see MAX_DEPTH).
    const states: LabelState[] = [];
    for (const arg of args) states.push(this.state(arg));
    if (name === 'absent' || name === 'absent_over_time') return absentLabels(args[0]).get(this.label) ?? null;
    if (name === 'label_replace' || name === 'label_join') {
      if (labelFunctionTouches(node, this.label)) {
        this.makeExact(args[0], states[0] ?? null);
        return null;
      }
      return states[0] ?? null;
    }
    const f = promqlFunction(name);
    // A function the table does not know (a newer collector's): its first argument, as most keep.
    const index = f === undefined ? 0 : f.seriesArgument;
    return index < 0 ? null : states[index] ?? null;
  }

  private aggregate(node: AggregateExpr): LabelState {
    const { op, param, expr: vector, grouping } = node;
    if (param !== null) this.state(param);
    const inner = this.state(vector);
    if (KEEP_SERIES_AGGREGATIONS.has(op)) return inner;
    if (op === 'count_values') {
      const target = stringArgument(param);
      // count_values writes the value into its label: the collector computes that label itself.
      if (target === null) this.makeExact(vector, inner);
      if (target === null || target === this.label) return null;
    }
    if (grouping === null) return null;
    const listed = grouping.labels.includes(this.label);
    return !grouping.without === listed ? inner : null;
  }

  private binary(node: BinaryExpr): LabelState {
    const { lhs, rhs, op, matching } = node;
    let left = this.state(lhs);
    let right = this.state(rhs);
    if (valueType(lhs) === 'scalar') return right;
    if (valueType(rhs) === 'scalar') return left;

    const includeLabels = matching.include.includes(this.label);
    const matchesOnShardLabel = matchesOnLabel(matching, this.label);
    // `or` and fill() mix series of both sides into one answer.
    const mixesSides = op === 'or' || fills(matching);
    if (left !== right && (matchesOnShardLabel || mixesSides)) {
      this.makeExact(lhs, left);
      this.makeExact(rhs, right);
      left = right = null;
    }
    if (op === 'and' || op === 'or' || op === 'unless') return left;
    if (matching.card === 'many-to-one' || matching.card === 'one-to-many') {
      // Many-to-one keeps the "many" side's labels, then copies the group_x(...) labels from the "one" side.
      const [many, one] = matching.card === 'many-to-one' ? [left, right] : [right, left];
      return includeLabels ? one : many;
    }
    // One-to-one keeps the left side's labels, reduced to on(...) or without ignoring(...).
    return matchesOnShardLabel ? left : null;
  }

  /** Wraps an operand in label_replace so the collector attaches the shard label itself. */
  private makeExact(node: Expr | undefined, state: LabelState): void {
    if (node === undefined || state === null) return;
    if (valueType(node) !== 'vector') {
      throw new UnsupportedQueryError(
        `cannot attach the shard label to ${JSON.stringify(this.text.slice(node.from, node.to))}: not an instant vector`,
      );
    }
    this.materialised.set(node, state);
  }
}
