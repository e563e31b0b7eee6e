// Puts a shard matcher into every selector of a query (the way a Grafana user selecting one cluster
// writes it), using the same parser as the router, never text search.
import { vectorSelectors } from '../../lib/promql/ast.ts';
import { parsePromQL } from '../../lib/promql/parse.ts';

export function injectMatcher(query: string, label: string, matcher: string): string {
  const edits: { at: number; text: string }[] = [];
  for (const selector of vectorSelectors(parsePromQL(query))) {
    if (selector.matchers.some((m) => m.name === label)) continue;
    const braces = selector.braces;
    if (braces === null) {
      // Right after the metric name, before any modifier written after it.
      edits.push({ at: selector.nameSpan!.to, text: `{${matcher}}` });
    } else {
      const inside = query.slice(braces.from + 1, braces.to - 1).trim();
      const separator = inside === '' || inside.endsWith(',') ? '' : ', ';
      edits.push({ at: braces.to - 1, text: `${separator}${matcher}` });
    }
  }
  let out = query;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}

/** Replaces every shard-label matcher with `matcher` and adds it to selectors that have none. */
export function setMatcher(query: string, label: string, matcher: string): string {
  const edits: { from: number; to: number; text: string }[] = [];
  for (const selector of vectorSelectors(parsePromQL(query))) {
    for (const m of selector.matchers) if (m.name === label) edits.push({ from: m.from, to: m.to, text: matcher });
  }
  let out = query;
  for (const e of edits.sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return injectMatcher(out, label, matcher);
}
