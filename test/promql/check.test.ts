// The checker: checkAST's rules per major, the version verdicts, the routing check, and Prometheus
// 3.14's own test files as a witness that every 3.x expression they expect to work parses.
import { describe, expect, it } from 'vitest';
import { checkQuery, type CheckOptions } from '../../lib/promql/check.ts';
import { ALL_EXPERIMENTAL, parseQuery } from '../../lib/promql/parse.ts';
import { evalExpressions } from './corpus.ts';

const verdict = (q: string, options: CheckOptions): string | null => {
  try {
    checkQuery(parseQuery(q), options);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};
const v2 = { major: 2 } as const;
const v3 = { major: 3, experimental: ALL_EXPERIMENTAL } as const;
const routing = { major: null } as const;

describe('checkAST (messages checked against Prometheus 2.42)', () => {
  it.each([
    ['rate(x)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['abs(x, y)', '1:1: parse error: expected 1 argument(s) in call to "abs", got 2'],
    ['label_join(x)', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1'],
    ['round(x, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
    ['{job=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['x{__name__="y"}', '1:1: parse error: metric name must not be set twice: "x" or "y"'],
    ['1 < 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['x + bool y', '1:3: parse error: bool modifier can only be used on comparison operators'],
    ['a and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['a + on(x) group_left(x) b', '1:3: parse error: label "x" must not occur in ON and GROUP clause at once'],
    ['a or on(x) group_left(y) b', '1:1: parse error: no grouping allowed for "or" operation'],
    ['1 + on(x) 2', '1:1: parse error: vector matching only allowed between instant vectors'],
    ['x[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
    ['-"s"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
    ['x[5m][5m:]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
    ['count_values(1, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
    ['sum(x[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'],
    // The aggregated expression is checked before the parameter.
    ['topk(rate(x), "a")', '1:15: parse error: expected type instant vector in aggregation expression, got string'],
  ])('%s', (q, message) => {
    expect(verdict(q, v2)).toBe(message);
    expect(verdict(q, v3)).toBe(message);
  });
});

describe('version verdicts', () => {
  it('judges each major\'s functions and syntax by that release\'s parser', () => {
    expect(verdict('holt_winters(x[30m], 0.5, 0.5)', v2)).toBeNull();
    expect(verdict('holt_winters(x[30m], 0.5, 0.5)', v3)).toBe('1:1: parse error: unknown function with name "holt_winters"');
    expect(verdict('double_exponential_smoothing(x[30m], 0.5, 0.5)', v2)).toBe('1:1: parse error: unknown function with name "double_exponential_smoothing"');
    expect(verdict('double_exponential_smoothing(x[30m], 0.5, 0.5)', v3)).toBeNull();
    expect(verdict('double_exponential_smoothing(x[30m], 0.5, 0.5)', { major: 3 })).toBe('1:1: parse error: function "double_exponential_smoothing" is not enabled');
    expect(verdict('{"up", "k8s.pod"="x"}', v3)).toBeNull();
    expect(verdict('{"up", "k8s.pod"="x"}', v2)).toBe('1:2: parse error: unexpected string "\\"up\\"" in label matching, expected identifier or "}"');
    expect(verdict('x[5m*2] offset -step()', { major: 3 })).toBe('1:3: parse error: experimental duration expression is not enabled');
    expect(verdict('foo(x)', v2)).toBe('1:1: parse error: unknown function with name "foo"');
  });

  it('3.x\'s info() takes a label selector without a name as its second argument', () => {
    expect(verdict('info(x, {job=~".*"})', v3)).toBeNull();
    expect(verdict('info(x, {job=~".*"})', routing)).toBeNull();
    expect(verdict('info(x, y{a="b"})', v3)).toBe('1:9: parse error: expected label selectors only, got vector selector instead');
    expect(verdict('info(x, {job=~".*"})', v2)).toBe('1:1: parse error: unknown function with name "info"');
  });
});

describe('routing to one shard (major null)', () => {
  it('leaves the verdict on the query to the collector', () => {
    for (const q of ['foo(x)', 'rate(x)', 'holt_winters(x[5m], 1, 1)', 'mad_over_time(x[5m])', '1 < 2', 'x{__name__="y"}']) {
      expect(verdict(q, routing), q).toBeNull();
    }
  });

  it('refuses a selector whose matchers all match "", the shard matcher included', () => {
    for (const q of ['{cluster!="a"}', '{cluster=~".*"}', 'rate({cluster=~"a|"}[5m])', '{""}']) {
      expect(verdict(q, routing), q).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher'.replace('1:1', q.startsWith('rate') ? '1:6' : '1:1'));
    }
    expect(verdict('{cluster="a"}', routing)).toBeNull();
  });
});

describe('Prometheus 3.14\'s own test files', () => {
  const expressions = evalExpressions('v3.14.0');

  it('has its expressions', () => {
    expect(expressions.length).toBeGreaterThan(2000);
  });

  it('parses every expression not expected to fail, as the union and as 3.14 with its experiments', () => {
    const failures: string[] = [];
    for (const e of expressions.filter((x) => !x.expectFail)) {
      for (const [how, run] of [
        ['union', () => checkQuery(parseQuery(e.expr), routing)],
        ['union, check 3', () => checkQuery(parseQuery(e.expr), v3)],
        ['dialect 3', () => checkQuery(parseQuery(e.expr, { dialect: 3, experimental: ALL_EXPERIMENTAL }), v3)],
      ] as const) {
        try {
          run();
        } catch (err) {
          failures.push(`${e.where} (${how}): ${e.expr}: ${(err as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
