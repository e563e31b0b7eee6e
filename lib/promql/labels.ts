// Label provenance: where does a global Prometheus's answer carry the shard label?
//
// A collector's series lack the shard label. For a query sent to shard S, every node of the parse tree
// is in one of two states:
//   - exact (null): the collector's answer for this node has the same labels as the global answer;
//   - add(v): the global answer is the collector's with `<label>="v"` added to every series.
// Selectors routed to S start as add(S). Each operator maps its operands' states to its own, following
// Prometheus's label rules (aggregation grouping, vector matching, absent's label derivation, ...).
// Where an operator would behave differently without the label (a join on it, `or` of labelled and
// unlabelled series, label_replace reading it), the operand is *materialised*: wrapped in
// label_replace(<operand>, "<label>", "v", "", "") so the collector itself attaches the label and
// computes the operator exactly. The root's state tells the router whether to add the label to the
// collector's answer.
import type { SyntaxNode } from '@lezer/common';
import { returnsScalar, seriesArgumentIndex } from './functions.ts';
import { valueType } from './types.ts';
import type { Selector } from './selectors.ts';
import {
  callArguments, child, children, expressionChildren, functionName, groupingLabels, nodeKey, stringArgument,
} from './syntax.ts';

export type LabelState = string | null;

/** A query construct whose answer the router cannot make exact. */
export class UnsupportedQueryError extends Error {}

/** Nodes that only modify or wrap one inner expression without touching labels. */
const TRANSPARENT = new Set([
  'MatrixSelector', 'ParenExpr', 'OffsetExpr', 'StepInvariantExpr', 'SubqueryExpr', 'UnaryExpr', 'SmoothedExpr',
  'AnchoredExpr',
]);

const KEEP_SERIES_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);

export class LabelAnalysis {
  /** Nodes to wrap in label_replace, by nodeKey, with the shard label value to attach. */
  readonly materialised = new Map<string, string>();

  constructor(
    private readonly text: string,
    private readonly label: string,
    /** The selector written at a VectorSelector node. */
    private readonly selectorAt: (node: SyntaxNode) => Selector,
    /** The state of a selector: the target shard if the selector is routed to it, else null. */
    private readonly selectorState: (selector: Selector) => LabelState,
  ) {}

  state(node: SyntaxNode): LabelState {
    const name = node.type.name;
    if (name === 'VectorSelector') return this.selectorState(this.selectorAt(node));
    if (TRANSPARENT.has(name)) {
      const inner = expressionChildren(node)[0]!;
      const before = this.materialised.size;
      const state = this.state(inner);
      // lezer-promql reads `a - b offset 1h` as `(a - b) offset 1h` where Prometheus binds the
      // modifier to `b`: a wrapper inside would separate `b` from its modifier.
      const modifier = name === 'OffsetExpr' || name === 'StepInvariantExpr';
      if (modifier && inner.type.name === 'BinaryExpr' && this.materialised.size > before) {
        throw new UnsupportedQueryError(`cannot route ${JSON.stringify(this.text.slice(node.from, node.to))}: put the selector with its modifier in parentheses`);
      }
      return state;
    }
    if (name === 'NumberDurationLiteral' || name === 'StringLiteral') return null;
    if (name === 'FunctionCall') return this.call(node);
    if (name === 'AggregateExpr') return this.aggregate(node);
    if (name === 'BinaryExpr') return this.binary(node);
    // A construct this analysis does not know: make every operand exact so the collector's answer is.
    for (const operand of expressionChildren(node)) this.makeExact(operand, this.state(operand));
    return null;
  }

  private call(node: SyntaxNode): LabelState {
    const name = functionName(node, this.text);
    const args = callArguments(node);
    const states = args.map((a) => this.state(a));
    if (name === 'absent' || name === 'absent_over_time') return this.absentLabel(args[0]);
    if (name === 'label_replace' || name === 'label_join') {
      // label_replace(v, dst, replacement, src, regex); label_join(v, dst, separator, src...)
      const labelArgs = name === 'label_replace' ? [args[1], args[3]] : [args[1], ...args.slice(3)];
      const touchesShardLabel = labelArgs.some((a) => {
        const value = stringArgument(a, this.text);
        // A label name that is not a plain literal could be anything: assume it is the shard label.
        return value === null ? a !== undefined : value === this.label;
      });
      if (touchesShardLabel) {
        this.makeExact(args[0], states[0] ?? null);
        return null;
      }
      return states[0] ?? null;
    }
    if (returnsScalar(name)) return null;
    const index = seriesArgumentIndex(name);
    return index < 0 ? null : states[index] ?? null;
  }

  /**
   * absent() labels its answer from the equality matchers of a selector argument, in Prometheus's own
   * way: the first `=` matcher of a label sets it, any later matcher of that label removes it.
   */
  private absentLabel(arg: SyntaxNode | undefined): LabelState {
    let node = arg;
    while (node !== undefined && (node.type.name === 'OffsetExpr' || node.type.name === 'StepInvariantExpr')) {
      node = expressionChildren(node)[0];
    }
    if (node?.type.name === 'MatrixSelector') node = child(node, 'VectorSelector') ?? undefined;
    if (node?.type.name !== 'VectorSelector') return null;
    let value: string | null = null;
    let set = false;
    for (const m of this.selectorAt(node).matchers) {
      if (m.name !== this.label) continue;
      if (m.op === '=' && !set) {
        value = m.value;
        set = true;
      } else {
        value = null;
      }
    }
    return value === '' ? null : value;
  }

  private aggregate(node: SyntaxNode): LabelState {
    const op = this.text.slice(node.firstChild!.from, node.firstChild!.to).toLowerCase();
    const args = callArguments(node);
    const vector = args[args.length - 1];
    if (vector === undefined) return null;
    args.slice(0, -1).forEach((param) => this.state(param));
    const inner = this.state(vector);
    if (KEEP_SERIES_AGGREGATIONS.has(op)) return inner;
    if (op === 'count_values') {
      const target = stringArgument(args[0], this.text);
      // count_values writes the value into its label: the collector computes that label itself.
      if (target === null) this.makeExact(vector, inner);
      if (target === null || target === this.label) return null;
    }
    const modifier = child(node, 'AggregateModifier');
    if (modifier === null) return null;
    const listed = groupingLabels(child(modifier, 'GroupingLabels'), this.text).includes(this.label);
    const byClause = child(modifier, 'By') !== null;
    return byClause === listed ? inner : null;
  }

  private binary(node: SyntaxNode): LabelState {
    const operands = expressionChildren(node);
    const lhs = operands[0]!;
    const rhs = operands[operands.length - 1]!;
    let left = this.state(lhs);
    let right = this.state(rhs);
    if (valueType(lhs, this.text) === 'scalar') return right;
    if (valueType(rhs, this.text) === 'scalar') return left;

    const op = lhs.nextSibling!.type.name;
    const matching = child(node, 'MatchingModifierClause');
    const on = matching !== null && child(matching, 'On') !== null;
    const grouping = matching === null ? [] : children(matching).filter((c) => c.type.name === 'GroupingLabels');
    const matchLabels = groupingLabels(grouping[0] ?? null, this.text).includes(this.label);
    const includeLabels = groupingLabels(grouping[1] ?? null, this.text).includes(this.label);
    const groupLeft = matching !== null && child(matching, 'GroupLeft') !== null;
    const groupRight = matching !== null && child(matching, 'GroupRight') !== null;

    // Series are matched on the shard label unless `on(...)` leaves it out or `ignoring(...)` names it.
    const matchesOnShardLabel = on ? matchLabels : !matchLabels;
    // `or` and fill() mix series of both sides into one answer.
    const mixesSides = op === 'Or' || child(node, 'FillModifier') !== null;
    if (left !== right && (matchesOnShardLabel || mixesSides)) {
      this.makeExact(lhs, left);
      this.makeExact(rhs, right);
      left = right = null;
    }
    if (op === 'And' || op === 'Or' || op === 'Unless') return left;
    if (groupLeft || groupRight) {
      // Many-to-one keeps the "many" side's labels, then copies the group_x(...) labels from the "one" side.
      const [many, one] = groupLeft ? [left, right] : [right, left];
      return includeLabels ? one : many;
    }
    // One-to-one keeps the left side's labels, reduced to on(...) or without ignoring(...).
    return matchesOnShardLabel ? left : null;
  }

  /** Wraps an operand in label_replace so the collector attaches the shard label itself. */
  private makeExact(node: SyntaxNode | undefined, state: LabelState): void {
    if (node === undefined || state === null) return;
    if (valueType(node, this.text) !== 'vector') {
      throw new UnsupportedQueryError(
        `cannot attach the shard label to ${JSON.stringify(this.text.slice(node.from, node.to))}: not an instant vector`,
      );
    }
    this.materialised.set(nodeKey(node), state);
  }
}
