import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { StringLiteralError, unquote } from './strings.ts';
import { isExpression } from './syntax.ts';

/**
 * How deep a query may nest (parentheses, calls, operators: a chain `a or b or c` is as deep as it is
 * long). Every stage walks the tree; this keeps the deepest far below what each handles on a freshly
 * started process (measured by test/promql/depth.test.ts; see README.md).
 */
export const MAX_DEPTH = 1000;

/** A query that does not parse; `message` is formatted like Prometheus's own parse errors. */
export class PromQLSyntaxError extends Error {
  constructor(readonly position: number, readonly detail: string, text: string, dialect: 'union' | 2 | 3 = 'union') {
    super(`${positionText(text, position, dialect)}: parse error: ${detail}`);
  }
}

/** A query nesting deeper than MAX_DEPTH: the router's limit, not a syntax error (a 400 all the same). */
export class QueryTooDeepError extends PromQLSyntaxError {
  constructor(position: number, text: string) {
    super(position, `the query nests deeper than ${MAX_DEPTH} levels, the router's limit`, text);
    this.message = `${this.detail} (at ${positionText(text, position, 'union')})`;
  }
}

/** Prometheus's "line:column", both 1-based, the column in bytes of UTF-8 as Go counts them. */
export function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return `${line}:${utf8Length(before.slice(lineStart)) + 1}`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function positionText(text: string, position: number, dialect: 'union' | 2 | 3): string {
  // 3.x's posrange says "unknown position" for the empty query; 2.42 says 1:1.
  if (text === '' && dialect === 3) return 'unknown position';
  return lineAndColumn(text, position);
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
