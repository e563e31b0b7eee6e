// The test's judge of a query's validity for Prometheus, without Prometheus: the lezer grammar,
// Prometheus's string-literal rules, Go's regexp syntax, the non-empty-matcher rule for selectors, the
// number of arguments of aggregations and absent(), and the rules Prometheus's parser adds to its
// grammar that lezer's lacks: only ` \t\n\r` separate tokens, offset and @ follow a selector or a
// subquery once each and not before a range, literals are numbers and durations Go can value.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import {
  LiteralError, lezerAccepts, literalErrors, oracleSelectors, regexErrors, selectsSomethingNamed, type OracleSelector,
} from './oracle.ts';

/** What makes the query invalid; empty when valid. */
export function judge(text: string): string[] {
  if (!lezerAccepts(text)) return ['the lezer grammar rejects it'];
  const problems = literalErrors(text);
  let selectors: OracleSelector[];
  try {
    selectors = oracleSelectors(text);
  } catch (err) {
    if (err instanceof LiteralError) return [...problems, err.message];
    throw err;
  }
  problems.push(...regexErrors(selectors));
  for (const s of selectors) {
    if (regexErrors([s]).length > 0) continue;
    if (!selectsSomethingNamed(s)) problems.push(`${JSON.stringify(text.slice(s.from, s.to))}: vector selector must contain at least one non-empty matcher`);
  }
  problems.push(...aggregationArityErrors(text), ...whitespaceErrors(text), ...modifierErrors(text), ...literalValueErrors(text), ...bracketLexErrors(text));
  return problems;
}

/** Prometheus's lexer skips only space, tab, newline and carriage return; lezer skips more. */
function whitespaceErrors(text: string): string[] {
  const allowed = new Uint8Array(text.length);
  parser.parse(text).iterate({
    enter(ref) {
      if (ref.name === 'StringLiteral' || ref.name === 'LineComment') allowed.fill(1, ref.from, ref.to);
    },
  });
  const problems: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (!allowed[i] && /[^\S \t\n\r]/u.test(text[i]!)) problems.push(`unexpected character ${JSON.stringify(text[i])}`);
  }
  return problems;
}

/**
 * 3.x's lexer reads the start of brackets (until a number) in a mode of its own: it refuses a comment
 * there, and a subquery's colon unless a number was read that way before in the query: `x[step():]`
 * does not lex, `x[1m:]` does. (2.42 has no step() and refuses both kinds anyway.)
 */
function bracketLexErrors(text: string): string[] {
  let gotDuration = false;
  let opening = false;
  let stringQuote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (stringQuote !== '') {
      if (c === '\\' && stringQuote !== '`') i++;
      else if (c === stringQuote) stringQuote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') stringQuote = c;
    else if (c === '#' && !opening) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (c === '[') opening = true;
    else if (c === ']') opening = false;
    else if (opening && /[0-9.]/.test(c)) {
      gotDuration = true;
      opening = false;
    } else if (opening && c === ':' && !gotDuration) return ['unexpected colon before duration in duration expression'];
    // Comments too are not read there (2.42 refuses one right after `[` as well).
    else if (opening && c === '#') return ['unexpected character in duration expression: \'#\''];
  }
  return [];
}

/** The node a chain of modifiers (offset, @, anchored, smoothed) applies to, with the modifiers met. */
function modified(node: SyntaxNode): { target: SyntaxNode; offsets: number; ats: number } {
  let target = node;
  let offsets = 0;
  let ats = 0;
  for (;;) {
    if (target.name === 'OffsetExpr') offsets++;
    else if (target.name === 'StepInvariantExpr') ats++;
    else if (target.name !== 'AnchoredExpr' && target.name !== 'SmoothedExpr') return { target, offsets, ats };
    target = target.firstChild!;
  }
}

/** Only selectors and subqueries take offset and @, each once; a range follows a bare selector. */
function modifierErrors(text: string): string[] {
  const problems: string[] = [];
  parser.parse(text).iterate({
    enter(ref) {
      const node = ref.node;
      if (ref.name === 'OffsetExpr' || ref.name === 'StepInvariantExpr') {
        const { target, offsets, ats } = modified(node);
        if (!['VectorSelector', 'MatrixSelector', 'SubqueryExpr'].includes(target.name)) problems.push(`${ref.name} on ${target.name}`);
        else if (offsets > 1 || ats > 1) problems.push('a modifier set twice');
      }
      if (ref.name === 'OffsetExpr') {
        // 3.x's grammar reads an operator after `offset (...)` or `offset --1m` as more of the
        // duration (yacc shifts it), which is then followed by a duration or nothing valid.
        const duration = node.getChild('OffsetDurationExpr');
        const open = duration === null ? '' : text.slice(duration.from, duration.to);
        const after = text.slice(ref.to).trimStart();
        if (/^(?:\(|[+-][ \t\n\r]*[+-])/.test(open) && /^[-+*/%^]/.test(after)) problems.push('an operator after offset (...)');
      }
      if (ref.name === 'VectorSelector') {
        const name = node.getChild('Identifier');
        // Keywords Prometheus's grammar does not take as metric names (its metric_identifier).
        if (name !== null && /^(?:atan2|bool|on|ignoring|group_left|group_right)$/i.test(text.slice(name.from, name.to))) problems.push('a keyword as metric name');
      }
      if (ref.name === 'LabelName' && ref.node.parent?.name === 'GroupingLabels') {
        // Words Prometheus's lexer reads as a number or as `without`, which its grouping clauses refuse.
        if (/^(?:inf|nan|without)$/i.test(text.slice(ref.from, ref.to))) problems.push('a number or `without` as a grouping label');
      }
      if (ref.name === 'AnchoredExpr' || ref.name === 'SmoothedExpr') {
        const { target } = modified(node);
        if (target.name !== 'VectorSelector' && target.name !== 'MatrixSelector') problems.push(`${ref.name} on ${target.name}`);
      }
      if (ref.name === 'MatrixSelector' && node.firstChild!.name !== 'VectorSelector') {
        const { target, offsets, ats } = modified(node.firstChild!);
        if (target.name !== 'VectorSelector' || offsets > 0 || ats > 0) problems.push(`a range after ${node.firstChild!.name}`);
      }
    },
  });
  return problems;
}

const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;
const UNIT_SECONDS: Record<string, number> = { y: 31_536_000, w: 604_800, d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** A literal's value in seconds (a duration's too), or null if it is not a literal Go values. */
function literalSeconds(literal: string): number | null {
  if (/^\d+[a-z]/.test(literal)) {
    if (!DURATION.test(literal)) return null;
    return [...literal.matchAll(/(\d+)(ms|[ywdhms])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit!]!, 0);
  }
  const value = Number(literal.replaceAll('_', ''));
  return Math.abs(value) === Infinity && !/inf/i.test(literal) ? null : value;
}

/**
 * Number literals Go values finitely; durations with their units in order; ranges and steps above 0
 * ; @ timestamps within int64 milliseconds.
 */
function literalValueErrors(text: string): string[] {
  const problems: string[] = [];
  parser.parse(text).iterate({
    enter(ref) {
      if (ref.name === 'NumberDurationLiteral' || ref.name === 'NumberDurationLiteralInDurationContext') {
        const literal = text.slice(ref.from, ref.to);
        const value = literalSeconds(literal);
        // Prometheus's lexer reads a number and the letters right after it as one (bad) token.
        if (/[A-Za-z0-9_]/.test(text[ref.to] ?? '')) problems.push(`${literal}${text[ref.to]}: bad number or duration syntax`);
        // Inf and NaN are words to Prometheus's lexer, which brackets do not take; offsets refuse them.
        if (ref.name === 'NumberDurationLiteralInDurationContext' && /^[+-]?[\s]*[iInN]/.test(literal)) problems.push(`${literal}: not a duration`);
        if (value === null) problems.push(`${literal}: not a number or duration Go values`);
        else if (ref.node.parent?.name === 'StepInvariantExpr' && !(Math.abs(value) < 2 ** 63)) problems.push(`${literal}: timestamp out of bounds`);
        return;
      }
      const inBrackets = ref.name === 'DurationExpr' && ['MatrixSelector', 'SubqueryExpr'].includes(ref.node.parent?.name ?? '');
      if (!inBrackets) return;
      const m = /^([+-]?)[ \t\n\r]*([0-9][0-9a-z._]*|\.[0-9][0-9a-z._]*)$/.exec(text.slice(ref.from, ref.to));
      const value = m === null ? null : literalSeconds(m[2]!);
      if (value !== null && (m![1] === '-' ? -value : value) <= 0) problems.push(`${text.slice(ref.from, ref.to)}: duration must be greater than 0`);
    },
  });
  return problems;
}

/** Aggregations taking a parameter (topk(k, v), quantile(φ, v), ...) need two arguments, others one. */
const PARAMETERISED = new Set(['topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio']);
const EXPRESSIONS = new Set([
  'AggregateExpr', 'BinaryExpr', 'FunctionCall', 'MatrixSelector', 'NumberDurationLiteral', 'OffsetExpr',
  'ParenExpr', 'StringLiteral', 'SubqueryExpr', 'UnaryExpr', 'VectorSelector', 'StepInvariantExpr',
  'SmoothedExpr', 'AnchoredExpr',
]);

function aggregationArityErrors(text: string): string[] {
  const problems: string[] = [];
  parser.parse(text).iterate({
    enter(ref) {
      if (ref.name === 'FunctionCall') {
        const name = text.slice(ref.node.firstChild!.from, ref.node.firstChild!.to);
        const count = argumentCount(ref.node.getChild('FunctionCallBody'));
        if ((name === 'absent' || name === 'absent_over_time') && count !== 1) {
          problems.push(`expected 1 argument(s) in call to "${name}", got ${count}`);
        }
        return;
      }
      if (ref.name !== 'AggregateExpr') return;
      const op = text.slice(ref.node.firstChild!.from, ref.node.firstChild!.to).toLowerCase();
      const args = argumentCount(ref.node.getChild('FunctionCallBody'));
      const expected = PARAMETERISED.has(op) ? 2 : 1;
      if (args !== expected) problems.push(`${op}: wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args}`);
    },
  });
  return problems;
}

function argumentCount(body: SyntaxNode | null): number {
  let count = 0;
  for (let c = body?.firstChild ?? null; c !== null; c = c.nextSibling) if (EXPRESSIONS.has(c.name)) count++;
  return count;
}
