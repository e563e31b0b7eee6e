// Prints a query for one shard: shard-label matchers removed, nothing else of the text changed
// (whitespace, comments, quoting, offsets stay as written), except the label_replace wrappers the
// label analysis asks for.
import type { SyntaxNode } from '@lezer/common';
import { hasNonEmptyMatcher } from './matchers.ts';
import type { Selector } from './selectors.ts';
import { quote } from './strings.ts';
import { children, nodeKey } from './syntax.ts';

const MATCHER_NODES = new Set(['UnquotedLabelMatcher', 'QuotedLabelMatcher', 'QuotedLabelName']);

export interface RewriteInput {
  readonly text: string;
  readonly label: string;
  readonly selectorAt: (node: SyntaxNode) => Selector;
  /** Whether the selector is routed to the shard this query is printed for. */
  readonly routed: (selector: Selector) => boolean;
  /** Nodes to wrap in label_replace, by nodeKey, with the label value. */
  readonly materialised: ReadonlyMap<string, string>;
}

export function rewriteQuery(root: SyntaxNode, input: RewriteInput): string {
  const { text } = input;
  return text.slice(0, root.from) + emit(root, input) + text.slice(root.to);
}

function emit(node: SyntaxNode, input: RewriteInput): string {
  const { text } = input;
  let out: string;
  if (node.type.name === 'VectorSelector') {
    out = emitSelector(input.selectorAt(node), input);
  } else {
    out = '';
    let pos = node.from;
    for (const c of children(node)) {
      out += text.slice(pos, c.from) + emit(c, input);
      pos = c.to;
    }
    out += text.slice(pos, node.to);
  }
  const value = input.materialised.get(nodeKey(node));
  if (value === undefined) return out;
  const wrapped = `label_replace(${out}, ${quote(input.label)}, ${quote(value)}, "", "")`;
  // `and(x)` written without a space: parentheses keep the wrapper from fusing with the keyword
  // (`andlabel_replace`) without touching the query's own whitespace.
  return /[\w:]/.test(text[node.from - 1] ?? '') ? `(${wrapped})` : wrapped;
}

function emitSelector(selector: Selector, input: RewriteInput): string {
  const { text, label } = input;
  const whole = text.slice(selector.node.from, selector.node.to);
  const braces = selector.braces;
  if (braces === null || !selector.matchers.some((m) => m.name === label)) return whole;

  const items = children(braces).filter((c) => MATCHER_NODES.has(c.type.name));
  const shardKeys = new Set(selector.matchers.filter((m) => m.name === label).map((m) => nodeKey(m.node)));
  const routed = input.routed(selector);
  // A selector not routed to this shard must select nothing here. Collectors have no series with the
  // shard label, so `<label>!=""` matches none of theirs (and is a valid selector on its own).
  const exclusion = routed ? null : `${label}!=""`;
  const firstShardItem = items.findIndex((c) => shardKeys.has(nodeKey(c)));
  const removed = items.map((c, i) => shardKeys.has(nodeKey(c)) && !(exclusion !== null && i === firstShardItem));

  const base = braces.from + 1;
  let content = text.slice(base, braces.to - 1);
  const edits: { from: number; to: number; insert: string }[] = [];
  if (removed.every(Boolean)) {
    edits.push({ from: base, to: braces.to - 1, insert: '' });
  } else {
    for (let i = 0; i < items.length; i++) {
      if (!removed[i]) continue;
      let j = i;
      while (j + 1 < items.length && removed[j + 1]) j++;
      // Remove the run with the comma that follows it, or, at the end, with the comma before it.
      edits.push(j + 1 < items.length
        ? { from: items[i]!.from, to: items[j + 1]!.from, insert: '' }
        : { from: items[i - 1]!.to, to: items[j]!.to, insert: '' });
      i = j;
    }
  }
  if (exclusion !== null) {
    const item = items[firstShardItem]!;
    edits.push({ from: item.from, to: item.to, insert: exclusion });
  }
  // Prometheus rejects a selector whose matchers all match the empty string: `{cluster="a"}` alone,
  // or with `job=~".*"`. Selecting every named series keeps its meaning on the collector.
  const kept = selector.matchers.filter((m) => m.name !== label);
  if (routed && !selector.metricName && !hasNonEmptyMatcher(kept)) {
    const itemsKept = removed.some((r) => !r);
    edits.push({ from: base, to: base, insert: itemsKept ? '__name__=~".+", ' : '__name__=~".+"' });
  }
  edits.sort((a, b) => b.from - a.from || b.to - a.to);
  for (const e of edits) content = content.slice(0, e.from - base) + e.insert + content.slice(e.to - base);
  return text.slice(selector.node.from, base) + content + text.slice(braces.to - 1, selector.node.to);
}
