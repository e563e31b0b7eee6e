import type { SyntaxNode } from '@lezer/common';
import { matches, validateMatcher, type Matcher, type MatchOp, RegexError } from './matchers.ts';
import { PromQLSyntaxError } from './parse.ts';
import { StringLiteralError, unquote } from './strings.ts';
import { child, children, labelName } from './syntax.ts';

/** One matcher of a selector, decoded, with its place in the query text. */
export interface SelectorMatcher extends Matcher {
  readonly node: SyntaxNode;
}

/** A vector selector as written: its metric name (if any) and its matchers in order. */
export interface Selector {
  readonly node: SyntaxNode;
  /** The metric name, written before the braces or as a lone quoted name inside them. */
  readonly metricName: string | null;
  readonly matchers: readonly SelectorMatcher[];
  /** The LabelMatchers node (the braces), if the selector has braces. */
  readonly braces: SyntaxNode | null;
}

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/** Every vector selector in an expression tree, in text order. */
export function collectSelectors(root: SyntaxNode, text: string): Selector[] {
  const out: Selector[] = [];
  const cursor = root.cursor();
  do {
    if (cursor.type.name === 'VectorSelector') out.push(readSelector(cursor.node, text));
  } while (cursor.next() && cursor.from < root.to);
  return out;
}

function readSelector(node: SyntaxNode, text: string): Selector {
  const identifier = child(node, 'Identifier');
  let metricName = identifier === null ? null : text.slice(identifier.from, identifier.to);
  const braces = child(node, 'LabelMatchers');
  const matchers: SelectorMatcher[] = [];
  for (const m of braces === null ? [] : children(braces)) {
    if (m.type.name === 'QuotedLabelName') {
      metricName = decode(text, m);
    } else if (m.type.name === 'UnquotedLabelMatcher' || m.type.name === 'QuotedLabelMatcher') {
      const nameNode = child(m, 'LabelName') ?? child(m, 'QuotedLabelName');
      const opNode = child(m, 'MatchOp')?.firstChild;
      const valueNode = child(m, 'StringLiteral');
      if (nameNode === null || !opNode || valueNode === null) continue;
      const matcher: SelectorMatcher = {
        node: m,
        name: nameNode.type.name === 'QuotedLabelName' ? decode(text, nameNode) : labelName(nameNode, text),
        op: MATCH_OPS[opNode.type.name]!,
        value: decode(text, valueNode),
      };
      try {
        validateMatcher(matcher);
      } catch (err) {
        if (err instanceof RegexError) throw new PromQLSyntaxError(valueNode.from, err.message, text);
        throw err;
      }
      matchers.push(matcher);
    }
  }
  return { node, metricName, matchers, braces };
}

function decode(text: string, node: SyntaxNode): string {
  try {
    return unquote(text.slice(node.from, node.to));
  } catch (err) {
    if (err instanceof StringLiteralError) throw new PromQLSyntaxError(node.from, err.message, text);
    throw err;
  }
}

/**
 * The shards whose series a selector can return. On a global Prometheus every series carries the
 * shard label with its shard's name, so a shard is selected exactly when all shard-label matchers
 * accept its name (`cluster=""` accepts no shard; `cluster!=""` and `=~".*"` accept all).
 */
export function selectedShards(selector: Selector, shardLabel: string, shardNames: readonly string[]): string[] {
  const own = selector.matchers.filter((m) => m.name === shardLabel);
  return shardNames.filter((name) => own.every((m) => matches(m, name)));
}
