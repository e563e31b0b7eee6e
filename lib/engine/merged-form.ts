// Merged leaves: the leaves the router computes itself from the merged samples of a shard whose
// replicas it merges (lib/replicas, "replicas": "merge"; the planner sends such a shard nothing else):
// a series selector, a range function over a matrix selector (its other arguments number literals),
// `timestamp()` of a selector (the samples' own times), and a bare matrix selector. Everything above
// them (aggregations, binary operators, subqueries) the router's engine evaluates as for any shard.
import { literalDurationMs, type Expr, type VectorSelector } from '../promql/ast.ts';
import { rangeArgumentIndex } from '../promql/function-table.ts';
import { unwrapParens } from '../promql/labels.ts';
import type { Matcher } from '../promql/matchers.ts';
import { RANGE_FUNCTIONS } from './kernels/range.ts';

export type MergedForm =
  | { readonly kind: 'selector' | 'timestamp'; readonly selector: VectorSelector }
  | { readonly kind: 'matrix'; readonly selector: VectorSelector; readonly rangeMs: number }
  | {
    readonly kind: 'range';
    readonly selector: VectorSelector;
    readonly rangeMs: number;
    readonly fn: string;
    /** The call's arguments in order: numbers, and undefined where the range vector goes. */
    readonly scalars: readonly (number | undefined)[];
  };

/** The merged leaf `node` is, or null (parentheses around it are fine). */
export function mergedForm(node: Expr): MergedForm | null {
  const e = unwrapParens(node);
  if (e.kind === 'vectorSelector') return plain(e) ? { kind: 'selector', selector: e } : null;
  if (e.kind === 'matrixSelector') {
    const rangeMs = literalDurationMs(e.range);
    return rangeMs !== null && plain(e.selector) ? { kind: 'matrix', selector: e.selector, rangeMs } : null;
  }
  if (e.kind !== 'call') return null;
  if (e.name === 'timestamp' && e.args.length === 1) {
    const arg = unwrapParens(e.args[0]!);
    return arg.kind === 'vectorSelector' && plain(arg) ? { kind: 'timestamp', selector: arg } : null;
  }
  const index = rangeArgumentIndex(e.name);
  if (index < 0 || RANGE_FUNCTIONS[e.name] === undefined) return null;
  const matrix = e.args[index] === undefined ? null : unwrapParens(e.args[index]);
  if (matrix?.kind !== 'matrixSelector' || !plain(matrix.selector)) return null;
  const rangeMs = literalDurationMs(matrix.range);
  if (rangeMs === null) return null;
  const scalars: (number | undefined)[] = [];
  for (const [i, arg] of e.args.entries()) {
    const a = unwrapParens(arg);
    if (i === index) scalars.push(undefined);
    else if (a.kind === 'number') scalars.push(a.value);
    else return null;
  }
  return { kind: 'range', selector: matrix.selector, rangeMs, fn: e.name, scalars };
}

/** The selector's matchers as remote read takes them: the metric name as a `__name__` matcher. */
export function selectorMatchers(selector: VectorSelector): Matcher[] {
  const matchers: Matcher[] = selector.matchers.map(({ name, op, value }) => ({ name, op, value }));
  if (selector.metricName !== null) matchers.unshift({ name: '__name__', op: '=', value: selector.metricName });
  return matchers;
}

/** The selector's offset in ms (0 without one). */
export function offsetMs(selector: VectorSelector): number {
  return selector.offset === null ? 0 : literalDurationMs(selector.offset.value)!;
}

/** PromQL 3's modifiers and duration expressions are left to the shards' own engines. */
function plain(s: VectorSelector): boolean {
  return !s.anchored && !s.smoothed && (s.offset === null || literalDurationMs(s.offset.value) !== null);
}
