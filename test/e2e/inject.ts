// Puts a shard matcher into the selectors of a query (the way a Grafana user selecting clusters
// writes it), using the router's own reading of the query (planQuery's selectors), never text search.
import { planQuery } from '../../lib/promql/plan.ts';
import type { Selector } from '../../lib/promql/selectors.ts';

/** The query's selectors in text order, as the router reads them. */
function selectorsOf(query: string, label: string): readonly Selector[] {
  return planQuery(query, label, []).selectors;
}

/**
 * Adds `matcher` inside the braces of every selector that `which` accepts (default: every one,
 * whatever matchers it has already), or as new braces after a bare metric name.
 */
export function addMatcher(query: string, label: string, matcher: string, which: (s: Selector) => boolean = () => true): string {
  const edits: { at: number; text: string }[] = [];
  for (const selector of selectorsOf(query, label).filter(which)) {
    const braces = selector.braces;
    if (braces === null) {
      edits.push({ at: selector.node.to, text: `{${matcher}}` });
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
  return addMatcher(query, label, matcher, (s) => !s.matchers.some((m) => m.name === label));
}

/** Replaces every shard-label matcher with `matcher` and adds it to selectors that have none. */
export function setMatcher(query: string, label: string, matcher: string): string {
  const edits: { from: number; to: number; text: string }[] = [];
  for (const selector of selectorsOf(query, label)) {
    for (const m of selector.matchers) if (m.name === label) edits.push({ from: m.node.from, to: m.node.to, text: matcher });
  }
  let out = query;
  for (const e of edits.sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return injectMatcher(out, label, matcher);
}
