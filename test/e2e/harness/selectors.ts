// The vector selectors (metric name + label matchers) of a PromQL expression, so the generator can
// produce data that the corpus' selectors actually match. Parsing, string decoding and matcher
// semantics are the router's own (lib/promql); this module only adapts them to the harness's view.
import { vectorSelectors } from '../../../lib/promql/ast.ts';
import type { Matcher } from '../../../lib/promql/matchers.ts';
import { parsePromQL } from '../../../lib/promql/parse.ts';

export type { Matcher } from '../../../lib/promql/matchers.ts';

export interface Selector {
  /** Metric name from the identifier or from `{__name__="..."}`; null when only a regex names it. */
  metric: string | null;
  /** Label matchers other than an equality `__name__` one. */
  matchers: Matcher[];
}

const isNameEquality = (m: Matcher): boolean => m.name === '__name__' && m.op === '=';

/** All vector selectors in `expr` (including those inside matrix selectors and subqueries). */
export function extractSelectors(expr: string): Selector[] {
  return vectorSelectors(parsePromQL(expr)).map((sel) => ({
    metric: sel.matchers.findLast(isNameEquality)?.value ?? sel.metricName,
    matchers: sel.matchers.filter((m) => !isNameEquality(m)).map(({ name, op, value }) => ({ name, op, value })),
  }));
}
