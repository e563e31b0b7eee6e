// Puts a shard matcher into the selectors of a query (the way a Grafana user selecting clusters
// writes it), using the router's own reading of the query (the parsed tree's selectors), never text search.
import { vectorSelectors, type VectorSelector } from '../../lib/promql/ast.ts';
import { parsePromQL } from '../../lib/promql/parse.ts';

/**
 * Adds `matcher` inside the braces of every selector that `which` accepts (default: every one,
 * whatever matchers it has already), or as new braces after a bare metric name.
 */
export function addMatcher(query: string, matcher: string, which: (s: VectorSelector) => boolean = () => true): string {
  const edits: { at: number; text: string }[] = [];
  for (const selector of vectorSelectors(parsePromQL(query)).filter(which)) {
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

/** Adds `matcher` to the selectors that have no matcher on `label`. */
export function injectMatcher(query: string, label: string, matcher: string): string {
  return addMatcher(query, matcher, (s) => !s.matchers.some((m) => m.name === label));
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
