import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { StringLiteralError, unquote } from './strings.ts';
import { isExpression } from './syntax.ts';

/** A query that does not parse; `message` is formatted like Prometheus's own parse errors. */
export class PromQLSyntaxError extends Error {
  constructor(readonly position: number, detail: string, text: string) {
    super(`${lineAndColumn(text, position)}: parse error: ${detail}`);
  }
}

/** Prometheus reports positions as "line:column", both 1-based. */
export function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${line}:${column}`;
}

/** Parses a PromQL expression with the Prometheus project's grammar; returns its expression node. */
export function parsePromQL(text: string): SyntaxNode {
  const tree = parser.parse(text);
  let hasExpression = false;
  for (let c = tree.topNode.firstChild; c !== null; c = c.nextSibling) hasExpression ||= isExpression(c);
  if (!hasExpression) throw new PromQLSyntaxError(0, 'no expression found in input', text);
  let error: SyntaxNode | null = null;
  tree.iterate({
    enter(ref) {
      if (error !== null) return false;
      if (ref.type.isError) error = ref.node;
      return undefined;
    },
  });
  if (error !== null) {
    const at = (error as SyntaxNode).from;
    throw new PromQLSyntaxError(at, describeUnexpected(text, at), text);
  }
  let expr: SyntaxNode | null = null;
  for (let c = tree.topNode.firstChild; c !== null; c = c.nextSibling) {
    if (c.type.name === 'LineComment') continue;
    if (expr !== null) throw new PromQLSyntaxError(c.from, describeUnexpected(text, c.from), text);
    expr = c;
  }
  if (expr === null) throw new PromQLSyntaxError(0, 'no expression found in input', text);
  checkStringLiterals(expr, text);
  return expr;
}

/** Every string literal must decode as Prometheus decodes it (escapes, UTF-8), wherever it stands. */
function checkStringLiterals(root: SyntaxNode, text: string): void {
  const cursor = root.cursor();
  do {
    if (cursor.type.name !== 'StringLiteral') continue;
    try {
      unquote(text.slice(cursor.from, cursor.to));
    } catch (err) {
      if (err instanceof StringLiteralError) throw new PromQLSyntaxError(cursor.from, err.message, text);
      throw err;
    }
  } while (cursor.next() && cursor.from < root.to);
}

function describeUnexpected(text: string, at: number): string {
  const rest = text.slice(at).trimStart();
  if (rest === '') return 'unexpected end of input';
  const token = /^(?:[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|.)/su.exec(rest)?.[0] ?? rest[0];
  return `unexpected ${JSON.stringify(token!.length > 40 ? `${token!.slice(0, 40)}…` : token)}`;
}
