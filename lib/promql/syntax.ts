// Small helpers over the lezer-promql syntax tree, so the analysis reads in PromQL terms.
import type { SyntaxNode } from '@lezer/common';
import { unquote } from './strings.ts';

/** Node types that are PromQL expressions (as opposed to tokens, modifiers and label lists). */
const EXPRESSIONS = new Set([
  'AggregateExpr', 'BinaryExpr', 'FunctionCall', 'MatrixSelector', 'NumberDurationLiteral', 'OffsetExpr',
  'ParenExpr', 'StringLiteral', 'SubqueryExpr', 'UnaryExpr', 'VectorSelector', 'StepInvariantExpr',
  'SmoothedExpr', 'AnchoredExpr',
]);

export function isExpression(node: SyntaxNode): boolean {
  return EXPRESSIONS.has(node.type.name);
}

export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

export function child(node: SyntaxNode, name: string): SyntaxNode | null {
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.type.name === name) return c;
  return null;
}

export function expressionChildren(node: SyntaxNode): SyntaxNode[] {
  return children(node).filter(isExpression);
}

/** Arguments of a function call or aggregation (the expressions inside FunctionCallBody). */
export function callArguments(node: SyntaxNode): SyntaxNode[] {
  const body = child(node, 'FunctionCallBody');
  return body === null ? [] : expressionChildren(body);
}

/** A stable identity for a node: lezer creates node objects on demand, so compare by position and type. */
export function nodeKey(node: SyntaxNode): string {
  return `${node.from}:${node.to}:${node.type.id}`;
}

/** The label name of a LabelName or QuotedLabelName node (the latter is a UTF-8 name in quotes). */
export function labelName(node: SyntaxNode, text: string): string {
  const raw = text.slice(node.from, node.to);
  return node.type.name === 'QuotedLabelName' ? unquote(raw) : raw;
}

/** The label names in a GroupingLabels node: `by (a, "b")`. */
export function groupingLabels(node: SyntaxNode | null, text: string): string[] {
  if (node === null) return [];
  return children(node)
    .filter((c) => c.type.name === 'LabelName' || c.type.name === 'QuotedLabelName')
    .map((c) => labelName(c, text));
}

/** The string value of an argument if it is a string literal (label_replace's label names, ...). */
export function stringArgument(node: SyntaxNode | undefined, text: string): string | null {
  if (node === undefined || node.type.name !== 'StringLiteral') return null;
  return unquote(text.slice(node.from, node.to));
}

export function functionName(call: SyntaxNode, text: string): string {
  const id = child(call, 'FunctionIdentifier');
  return id === null ? '' : text.slice(id.from, id.to);
}
