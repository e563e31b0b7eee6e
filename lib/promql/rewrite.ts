// Prints a query for one shard: shard-label matchers removed, nothing else of the text changed
// (whitespace, comments, quoting, offsets stay as written), except the label_replace wrappers the
// label analysis asks for and label names in the collectors' names (the shard label rule: the router's
// shard label is SHARD_LABEL_ON_COLLECTORS there, `original_<label>` is the collector's `<label>`).
// The tree's spans are exact, so the rewrite is a list of edits on the text.
import { descendants, type Expr, type Span, type VectorSelector } from './ast.ts';
import { hasNonEmptyMatcher } from './matchers.ts';
import { labelNameText, quote } from './strings.ts';
import { collectorLabelName, originalLabel, SHARD_LABEL_ON_COLLECTORS } from '../shards/shard-label-names.ts';

export interface RewriteInput {
  readonly text: string;
  readonly root: Expr;
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
  // Label names elsewhere (grouping, vector matching, label functions' arguments) only matter where
  // the query names the shard label or its original: every such name contains the shard label's.
  if (text.includes(label)) labelNameEdits(input, edits);
  for (const [node, value] of input.materialised) {
    // `and(x)` written without a space: parentheses keep the wrapper from fusing with the keyword
    // (`andlabel_replace`) without touching the query's own whitespace.
    const fuses = /[\w:]/.test(text[node.from - 1] ?? '');
    const width = node.to - node.from;
    edits.push(
      { from: node.from, to: node.from, insert: `${fuses ? '(' : ''}label_replace(`, rank: -width },
      { from: node.to, to: node.to, insert: `, ${quote(SHARD_LABEL_ON_COLLECTORS)}, ${quote(value)}, "", "")${fuses ? ')' : ''}`, rank: width },
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

/**
 * Removes the shard matchers from a selector's braces (see below) and names the shard label's original
 * as collectors do (`original_cluster="x"` is their `cluster="x"`); edits inside the braces only.
 */
function selectorEdits(selector: VectorSelector, input: RewriteInput, edits: Edit[]): void {
  const { label } = input;
  const braces = selector.braces;
  const original = originalLabel(label);
  for (const m of selector.matchers) {
    if (m.name === original) edits.push({ from: m.from, to: m.to, insert: `${label}${m.op}${quote(m.value)}`, rank: 0 });
  }
  if (braces === null || !selector.matchers.some((m) => m.name === label)) return;

  // Every item between the braces: the matchers, and a quoted metric name written among them.
  const items: (Span & { readonly shard: boolean })[] = selector.matchers.map((m) => ({ from: m.from, to: m.to, shard: m.name === label }));
  const name = selector.nameSpan;
  if (name !== null && name.from > braces.from) items.push({ ...name, shard: false });
  items.sort((a, b) => a.from - b.from);

  const routed = input.routed(selector);
  // A selector not routed to this shard must select nothing here. Collectors have no series with the
  // shard label's name on collectors, so `__prome_route_shard__!=""` matches none of theirs (and is a
  // valid selector on its own).
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
    local.push({ from: item.from, to: item.to, insert: `${SHARD_LABEL_ON_COLLECTORS}!=""`, rank: 0 });
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

/** Functions whose string arguments at these positions (from the second on) are label names. */
const LABEL_NAME_ARGUMENTS: Record<string, (index: number) => boolean> = {
  label_replace: (i) => i === 1 || i === 3,
  label_join: (i) => i === 1 || i >= 3,
  sort_by_label: (i) => i >= 1,
  sort_by_label_desc: (i) => i >= 1,
};

/**
 * Label names outside selectors in the collectors' names: by/without lists, on/ignoring and
 * group_left/right lists, label_replace/label_join/sort_by_label's label arguments, count_values's
 * label. Each name is written anew where it stands (strings quoted anew); nothing else changes.
 */
function labelNameEdits(input: RewriteInput, edits: Edit[]): void {
  const { label } = input;
  const translates = (name: string) => collectorLabelName(name, label) !== name;
  /** The names of a list (by, on, group_left, ...) that translate, each where it is written, as it is written (quoted or not). */
  const names = (list: readonly string[], spans: readonly Span[]) => list.forEach((name, i) => {
    if (!translates(name)) return;
    const span = spans[i]!;
    const translated = collectorLabelName(name, label);
    edits.push({ from: span.from, to: span.to, insert: /["'`]/.test(input.text[span.from]!) ? quote(translated) : labelNameText(translated), rank: 0 });
  });
  const string = (node: Expr | null | undefined) => {
    if (node?.kind === 'string' && translates(node.value)) {
      edits.push({ from: node.from, to: node.to, insert: quote(collectorLabelName(node.value, label)), rank: 0 });
    }
  };
  for (const node of descendants(input.root)) {
    if (node.kind === 'aggregate') {
      if (node.grouping !== null) names(node.grouping.labels, node.grouping.labelSpans);
      if (node.op === 'count_values') string(node.param);
    } else if (node.kind === 'binary') {
      names(node.matching.labels, node.matching.labelSpans);
      names(node.matching.include, node.matching.includeSpans);
    } else if (node.kind === 'call') {
      const isLabelName = LABEL_NAME_ARGUMENTS[node.name];
      if (isLabelName !== undefined) node.args.forEach((arg, i) => isLabelName(i) && string(arg));
    }
  }
}
