// The checker: Prometheus's checkAST (promql/parser/parse.go) over the typed tree, for a given major,
// plus the version verdict: a query using syntax or functions that some major treats differently
// (Query.dialectSensitive) is parsed again in that major's dialect, which refuses it in that
// release's words. Errors are PromQLSyntaxError, the first one Prometheus would report.
//
// The router uses it two ways:
//   - routing a query to one shard (major null): the collector judges the query itself, in its own
//     words, whatever its version; the router refuses only what the rewrite would change: a selector
//     whose matchers all match "" (the shard matcher counts, as on a global Prometheus; once it is
//     removed the collector would select everything);
//   - evaluating across shards: the checker runs for the shards' major, as a global Prometheus of
//     that version would.
import type { AggregateExpr, BinaryExpr, Call, Expr, Query, VectorSelector } from './ast.ts';
import { fills, nameBeforeBraces, vectorSelectors } from './ast.ts';
import { promqlFunction, type Major, type ValueType } from './function-table.ts';
import { valueType } from './types.ts';
import { hasNonEmptyMatcher } from './matchers.ts';
import { parseQuery, PromQLSyntaxError, type Experimental } from './parse.ts';
import { goQuote } from './strings.ts';

export interface CheckOptions {
  /** The Prometheus major to judge by; null: only what routing to one shard needs (see above). */
  readonly major: Major | null;
  /** 3.x's experimental features (major 3). */
  readonly experimental?: Experimental;
}

/** Checks a parsed query; throws PromQLSyntaxError with Prometheus's first error. */
export function checkQuery(query: Query, options: CheckOptions): void {
  const { major } = options;
  if (major === null) {
    const empty = emptySelector(query);
    if (empty !== null) throw new PromQLSyntaxError(empty.from, 'vector selector must contain at least one non-empty matcher', query.text);
    return;
  }
  const expr = query.dialectSensitive
    ? parseQuery(query.text, { dialect: major, ...(options.experimental === undefined ? {} : { experimental: options.experimental }) }).expr
    : query.expr;
  new Checker(query.text, major).check(expr);
}

/**
 * The first selector the empty-matcher rule refuses (3.x's info() lets its label selector go without
 * a name), or null.
 */
export function emptySelector(query: Query): VectorSelector | null {
  const bypass = new Set<VectorSelector>();
  for (const node of vectorSelectorsAndInfoCalls(query.expr)) {
    if (node.kind === 'call') {
      const selector = node.args[1];
      if (selector?.kind === 'vectorSelector') bypass.add(selector);
    } else if (!bypass.has(node) && !selectsSomething(node)) {
      return node;
    }
  }
  return null;
}

function* vectorSelectorsAndInfoCalls(root: Expr): Generator<VectorSelector | Call> {
  // Calls come before their arguments in text order: the bypass is known when the selector is met.
  const infos: Call[] = [];
  const stack: Expr[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.kind === 'call' && node.name === 'info') infos.push(node);
    if (node.kind === 'vectorSelector') continue;
    if (node.kind === 'matrixSelector') stack.push(node.selector);
    else if (node.kind === 'subquery' || node.kind === 'paren' || node.kind === 'unary') stack.push(node.expr);
    else if (node.kind === 'call') stack.push(...node.args);
    else if (node.kind === 'aggregate') stack.push(node.expr, ...(node.param === null ? [] : [node.param]));
    else if (node.kind === 'binary') stack.push(node.lhs, node.rhs);
  }
  yield* infos;
  yield* vectorSelectors(root);
}

/** Some matcher does not match the empty string (the metric name counts as `__name__="..."`). */
export function selectsSomething(selector: VectorSelector): boolean {
  if (selector.metricName !== null && selector.metricName !== '') return true;
  return hasNonEmptyMatcher(selector.matchers);
}

/** Prometheus's ValueType, spelled as its error messages spell it (DocumentedType). */
const DOCUMENTED: Record<ValueType, string> = {
  scalar: 'scalar', string: 'string', vector: 'instant vector', matrix: 'range vector',
};

const COMPARISONS = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);

class Checker {
  constructor(private readonly text: string, private readonly major: Major) {}

  private fail(position: number, message: string): never {
    throw new PromQLSyntaxError(position, message, this.text, this.major);
  }

  private expectType(node: Expr, want: ValueType, context: string): void {
    const t = this.check(node);
    if (t !== want) this.fail(node.from, `expected type ${DOCUMENTED[want]} in ${context}, got ${DOCUMENTED[t]}`);
  }

  /** checkAST: checks a node and its operands, in Prometheus's order; returns the node's type. */
  check(node: Expr): ValueType {
    switch (node.kind) {
      case 'aggregate': this.aggregate(node); break;
      case 'binary': this.binary(node); break;
      case 'call': this.call(node); break;
      case 'paren': this.check(node.expr); break;
      case 'unary': {
        const t = this.check(node.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(node.from, `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(DOCUMENTED[t])}`);
        }
        break;
      }
      case 'subquery': {
        const t = this.check(node.expr);
        if (t !== 'vector') this.fail(node.from, `subquery is only allowed on instant vector, got ${t} instead`);
        break;
      }
      case 'matrixSelector': this.check(node.selector); break;
      case 'vectorSelector': this.selector(node, false); break;
      default: break;
    }
    return valueType(node);
  }

  private aggregate(node: AggregateExpr): void {
    this.expectType(node.expr, 'vector', 'aggregation expression');
    if (node.param === null) return;
    this.expectType(node.param, node.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
  }

  private binary(node: BinaryExpr): void {
    const lt = this.check(node.lhs);
    const rt = this.check(node.rhs);
    // The operator's place as Prometheus finds it: the first non-space after the left operand.
    let opStart = node.lhs.to;
    while (/[ \t\n\r]/.test(this.text[opStart] ?? '')) opStart++;
    const { matching, op } = node;
    if (node.bool && !COMPARISONS.has(op)) this.fail(opStart, 'bool modifier can only be used on comparison operators');
    if (COMPARISONS.has(op) && !node.bool && rt === 'scalar' && lt === 'scalar') {
      this.fail(opStart, 'comparisons between scalars must use BOOL modifier');
    }
    if (matching.on) {
      for (const label of matching.labels) {
        if (matching.include.includes(label)) this.fail(opStart, `label ${goQuote(label)} must not occur in ON and GROUP clause at once`);
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail(node.lhs.from, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(node.rhs.from, 'binary expression must contain only scalar and instant vector types');
    const fill = fills(matching);
    if (lt !== 'vector' || rt !== 'vector') {
      if (matching.labels.length > 0) this.fail(node.from, 'vector matching only allowed between instant vectors');
      if (fill) this.fail(node.from, 'filling in missing series only allowed between instant vectors');
    } else if (SET_OPERATORS.has(op)) {
      if (matching.card === 'one-to-many' || matching.card === 'many-to-one') this.fail(node.from, `no grouping allowed for ${goQuote(op)} operation`);
      if (matching.card !== 'many-to-many') this.fail(node.from, 'set operations must always be many-to-many');
      if (fill) this.fail(node.from, 'filling in missing series not allowed for set operators');
    }
    if ((lt === 'scalar' || rt === 'scalar') && SET_OPERATORS.has(op)) {
      this.fail(node.from, `set operator ${goQuote(op)} not allowed in binary scalar expression`);
    }
  }

  private call(node: Call): void {
    // The dialect parse has refused names this major lacks.
    const f = promqlFunction(node.name)!;
    const n = f.argTypes.length;
    const name = goQuote(f.name);
    const got = node.args.length;
    if (f.variadic === 0) {
      if (n !== got) this.fail(node.from, `expected ${n} argument(s) in call to ${name}, got ${got}`);
    } else if (n - 1 > got) {
      this.fail(node.from, `expected at least ${n - 1} argument(s) in call to ${name}, got ${got}`);
    } else if (f.variadic > 0 && n - 1 + f.variadic < got) {
      this.fail(node.from, `expected at most ${n - 1 + f.variadic} argument(s) in call to ${name}, got ${got}`);
    }
    const bypass = this.major === 3 && f.name === 'info' && got > 1 ? this.infoSelector(node) : null;
    // A loop, not forEach: nested calls recurse through here (see MAX_DEPTH).
    for (let i = 0; i < got; i++) {
      if (i >= n && f.variadic === 0) break;
      const arg = node.args[i]!;
      const want = f.argTypes[Math.min(i, n - 1)]!;
      const t = arg === bypass ? this.selector(bypass, true) : this.check(arg);
      if (t !== want) this.fail(arg.from, `expected type ${DOCUMENTED[want]} in call to function ${goQuote(f.name)}, got ${DOCUMENTED[t]}`);
    }
  }

  /** info()'s second argument: label selectors only, exempt from the non-empty matcher rule. */
  private infoSelector(node: Call): VectorSelector | null {
    const arg = node.args[1]!;
    if (valueType(arg) !== 'vector') this.fail(node.from, `expected type instant vector in call to function "info", got ${DOCUMENTED[valueType(arg)]}`);
    if (arg.kind !== 'vectorSelector') this.fail(arg.from, 'expected label selectors only');
    if (nameBeforeBraces(arg)) {
      this.fail(arg.from, 'expected label selectors only, got vector selector instead');
    }
    return arg;
  }

  private selector(node: VectorSelector, bypassEmpty: boolean): ValueType {
    if (nameBeforeBraces(node)) {
      for (const m of node.matchers) {
        if (m.name === '__name__') this.fail(node.from, `metric name must not be set twice: ${goQuote(node.metricName!)} or ${goQuote(m.value)}`);
      }
      return 'vector';
    }
    if (!bypassEmpty && !selectsSomething(node)) this.fail(node.from, 'vector selector must contain at least one non-empty matcher');
    return 'vector';
  }
}
