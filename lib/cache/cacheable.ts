// Which range queries the cache may answer from extents. Prometheus evaluates each step of a range
// query on its own, from the step's timestamp alone: lookback and range windows reach before an
// extent's start, but they read the same samples whatever window the step sits in, and subqueries'
// steps are aligned to absolute time (multiples of their step), not to the query's start. So a step's
// value is the same in any window holding it, except where the query reads the window itself:
//   `@ start()` and `@ end()` evaluate at the window's ends, and PromQL 3's `range()` in a duration is
//   end - start. These are never taken apart (`step()` is fine: the step is part of the key).
// Request parameters that make an answer more than its steps (`stats`: statistics of the whole
// evaluation; `limit`: a cap on the series of the whole answer) are never cached either.
import { descendants, type DurationValue, type Expr, type Offset } from '../promql/ast.ts';

/** Why the query must be computed whole, or null where its steps can come from extents. */
export function windowDependence(root: Expr): string | null {
  for (const node of descendants(root)) {
    if ((node.kind === 'vectorSelector' || node.kind === 'subquery') && node.at !== null && node.at.kind !== 'time') {
      return `@ ${node.at.kind}()`;
    }
    for (const duration of durationsOf(node)) if (readsRange(duration)) return 'range()';
  }
  return null;
}

/** Parameters whose presence makes the answer depend on the whole window. */
export const WHOLE_WINDOW_PARAMS = ['stats', 'limit'] as const;

function durationsOf(node: Expr): DurationValue[] {
  const offset = (o: Offset | null) => (o === null ? [] : [o.value]);
  switch (node.kind) {
    case 'vectorSelector': return offset(node.offset);
    case 'matrixSelector': return [node.range];
    case 'subquery': return [node.range, ...(node.step === null ? [] : [node.step]), ...offset(node.offset)];
    case 'durationExpr': return [node];
    default: return [];
  }
}

/** Whether a duration reads the window: `range()` anywhere in it (descendants() visits its operands). */
function readsRange(value: Expr): boolean {
  for (const node of descendants(value)) if (node.kind === 'durationExpr' && node.op === 'range') return true;
  return false;
}
