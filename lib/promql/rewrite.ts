// Prints a query for one shard: shard-label matchers removed, nothing else of the text changed
// (whitespace, comments, quoting, offsets stay as written), except the label_replace wrappers the
// label analysis asks for. The tree's spans are exact, so the rewrite is a list of edits on the text:
// no walk of the tree, whatever its depth.
import type { Expr, Span, VectorSelector } from './ast.ts';
import { hasNonEmptyMatcher } from './matchers.ts';
import { quote } from './strings.ts';

export interface RewriteInput {
  readonly text: string;
  readonly label: string;
  readonly selectors: readonly VectorSelector[];
  /** Whether the selector is routed to the shard this query is printed for. */
  readonly routed: (selector: VectorSelector) => boolean;
  /** Nodes to wrap in label_replace, with the label value. */
  readonly materialised: ReadonlyMap<Expr, string>;
}

interface Edit extends Span {
  readonly insert: string;
  /** Orders insertions at one place: outer wrappers open first and close last. */
  readonly rank: number;
}

export function rewriteQuery(input: RewriteInput): string {
  const { text, label } = input;
  const edits: Edit[] = [];
  for (const selector of input.selectors) selectorEdits(selector, input, edits);
  for (const [node, value] of input.materialised) {
    // `and(x)` written without a space: parentheses keep the wrapper from fusing with the keyword
    // (`andlabel_replace`) without touching the query's own whitespace.
    const fuses = /[\w:]/.test(text[node.from - 1] ?? '');
    const width = node.to - node.from;
    edits.push(
      { from: node.from, to: node.from, insert: `${fuses ? '(' : ''}label_replace(`, rank: -width },
      { from: node.to, to: node.to, insert: `, ${quote(label)}, ${quote(value)}, "", "")${fuses ? ')' : ''}`, rank: width },
    );
  }
  edits.sort((a, b) => a.from - b.from || a.rank - b.rank);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += text.slice(pos, e.from) + e.insert;
    pos = e.to;
  }
  return out + text.slice(pos);
}

/** Removes the shard matchers from a selector's braces (see below); edits inside the braces only. */
function selectorEdits(selector: VectorSelector, input: RewriteInput, edits: Edit[]): void {
  const { label } = input;
  const braces = selector.braces;
  if (braces === null || !selector.matchers.some((m) => m.name === label)) return;

  // Every item between the braces: the matchers, and a quoted metric name written among them.
  const items: (Span & { readonly shard: boolean })[] = selector.matchers.map((m) => ({ from: m.from, to: m.to, shard: m.name === label }));
  const name = selector.nameSpan;
  if (name !== null && name.from > braces.from) items.push({ ...name, shard: false });
  items.sort((a, b) => a.from - b.from);

  const routed = input.routed(selector);
  // A selector not routed to this shard must select nothing here. Collectors have no series with the
  // shard label, so `<label>!=""` matches none of theirs (and is a valid selector on its own).
  const exclude = !routed;
  const firstShardItem = items.findIndex((i) => i.shard);
  const removed = items.map((item, i) => item.shard && !(exclude && i === firstShardItem));

  const base = braces.from + 1;
  const local: Edit[] = [];
  if (removed.every(Boolean)) {
    local.push({ from: base, to: braces.to - 1, insert: '', rank: 0 });
  } else {
    for (let i = 0; i < items.length; i++) {
      if (!removed[i]) continue;
      let j = i;
      while (j + 1 < items.length && removed[j + 1]) j++;
      // Remove the run with the comma that follows it, or, at the end, with the comma before it.
      local.push(j + 1 < items.length
        ? { from: items[i]!.from, to: items[j + 1]!.from, insert: '', rank: 0 }
        : { from: items[i - 1]!.to, to: items[j]!.to, insert: '', rank: 0 });
      i = j;
    }
  }
  if (exclude) {
    const item = items[firstShardItem]!;
    local.push({ from: item.from, to: item.to, insert: `${label}!=""`, rank: 0 });
  }
  // Prometheus rejects a selector whose matchers all match the empty string: `{cluster="a"}` alone,
  // or with `job=~".*"`. Selecting every named series keeps its meaning on the collector.
  const kept = selector.matchers.filter((m) => m.name !== label);
  if (routed && !selector.metricName && !hasNonEmptyMatcher(kept)) {
    const itemsKept = removed.some((r) => !r);
    local.push({ from: base, to: base, insert: itemsKept ? '__name__=~".+", ' : '__name__=~".+"', rank: -1 });
  }
  // The old single-pass printer applied these right to left on the braces' text; as edits on the
  // whole text they must not overlap: the `__name__` insertion at the opening comes first.
  local.sort((a, b) => a.from - b.from || a.rank - b.rank);
  edits.push(...local);
}
