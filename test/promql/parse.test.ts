// The PromQL parser: the tree it builds (shape, precedence, spans, decoded values) and the errors it
// gives. Error messages of dialect 2 / the union are Prometheus 2.42's (each one checked against
// promtool 2.42, and in bulk by differential.test.ts); dialect 3's follow 3.14's parse.go.
import { describe, expect, it } from 'vitest';
import type { DurationValue, Expr } from '../../lib/promql/ast.ts';
import { Lexer, type Token } from '../../lib/promql/lex.ts';
import { MAX_DEPTH, PromQLSyntaxError, QueryTooDeepError } from '../../lib/promql/parse.ts';
import { ALL_EXPERIMENTAL, parsePromQL, parseQuery, type ParseOptions } from '../../lib/promql/parse.ts';

/** A compact rendering of a tree: (op operands...), selectors with their modifiers. */
function show(e: Expr | DurationValue): string {
  switch (e.kind) {
    case 'number': return `${Object.is(e.value, -0) ? '-0' : e.value}${e.duration ? 's' : ''}`;
    case 'string': return JSON.stringify(e.value);
    case 'vectorSelector': {
      const matchers = e.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(',');
      let out = `${e.metricName ?? ''}${e.braces === null ? '' : `{${matchers}}`}`;
      if (e.offset !== null) out += ` offset ${show(e.offset.value)}`;
      if (e.at !== null) out += ` @ ${e.at.kind === 'time' ? `${e.at.ms}ms` : `${e.at.kind}()`}`;
      if (e.anchored) out += ' anchored';
      if (e.smoothed) out += ' smoothed';
      return out;
    }
    case 'matrixSelector': return `(range ${show(e.selector)} ${show(e.range)})`;
    case 'subquery': {
      let out = `(subquery ${show(e.expr)} ${show(e.range)} ${e.step === null ? '-' : show(e.step)}`;
      if (e.offset !== null) out += ` offset ${show(e.offset.value)}`;
      if (e.at !== null) out += ` @ ${e.at.kind === 'time' ? `${e.at.ms}ms` : `${e.at.kind}()`}`;
      return `${out})`;
    }
    case 'call': return `(${e.name}${e.args.map((a) => ` ${show(a)}`).join('')})`;
    case 'aggregate': {
      const grouping = e.grouping === null ? '' : ` ${e.grouping.without ? 'without' : 'by'}(${e.grouping.labels.join(',')})`;
      return `(${e.op}${grouping}${e.param === null ? '' : ` ${show(e.param)}`} ${show(e.expr)})`;
    }
    case 'binary': {
      const m = e.matching;
      let mods = e.bool ? ' bool' : '';
      if (m.on || m.labels.length > 0) mods += ` ${m.on ? 'on' : 'ignoring'}(${m.labels.join(',')})`;
      if (m.card === 'many-to-one' || m.card === 'one-to-many') mods += ` ${m.card}(${m.include.join(',')})`;
      if (m.fillLeft !== null || m.fillRight !== null) mods += ` fill(${m.fillLeft},${m.fillRight})`;
      return `(${e.op}${mods} ${show(e.lhs)} ${show(e.rhs)})`;
    }
    case 'unary': return `(${e.op} ${show(e.expr)})`;
    case 'paren': return `[${show(e.expr)}]`;
    case 'durationExpr': return `(${e.op}${e.lhs === null ? '' : ` ${show(e.lhs)}`}${e.rhs === null ? '' : ` ${show(e.rhs)}`})`;
  }
}

const shape = (q: string, options?: ParseOptions) => show(parseQuery(q, options).expr);
const errorOf = (q: string, options?: ParseOptions): string => {
  try {
    parseQuery(q, options);
  } catch (err) {
    expect(err).toBeInstanceOf(PromQLSyntaxError);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(q)} parsed`);
};

describe('lexer', () => {
  const tokens = (q: string, dialect: 2 | 3 = 3) => {
    const lexer = new Lexer(q, dialect);
    const out: string[] = [];
    for (let t: Token = lexer.next(); t.type !== 'EOF'; t = lexer.next()) out.push(`${t.type}:${t.text}`);
    return out;
  };

  it.each([
    ['1_000 0x1F 1. .5 1e3 017 Inf nan', ['NUMBER:1_000', 'NUMBER:0x1F', 'NUMBER:1.', 'NUMBER:.5', 'NUMBER:1e3', 'NUMBER:017', 'NUMBER:Inf', 'NUMBER:nan']],
    ['5m 1h30m 500ms', ['DURATION:5m', 'DURATION:1h30m', 'DURATION:500ms']],
    ['a:b{c=~"d"} # note', ['METRIC_IDENTIFIER:a:b', 'LEFT_BRACE:{', 'IDENTIFIER:c', 'EQL_REGEX:=~', 'STRING:"d"', 'RIGHT_BRACE:}', 'COMMENT:# note']],
    ['fill + fill(1)', ['IDENTIFIER:fill', 'ADD:+', 'FILL:fill', 'LEFT_PAREN:(', 'NUMBER:1', 'RIGHT_PAREN:)']],
    ['x[step()*2:1m]', ['IDENTIFIER:x', 'LEFT_BRACKET:[', 'STEP:step', 'LEFT_PAREN:(', 'RIGHT_PAREN:)', 'MUL:*', 'NUMBER:2', 'COLON::', 'DURATION:1m', 'RIGHT_BRACKET:]']],
    ['a </ b', ['IDENTIFIER:a', 'TRIM_UPPER:</', 'IDENTIFIER:b']],
  ])('3.14: %j', (q, expected) => {
    expect(tokens(q)).toEqual(expected);
  });

  it('2.42: no underscores in numbers, no duration arithmetic, `limitk` is a name', () => {
    expect(tokens('1_000', 2)).toEqual(['ERROR:bad number or duration syntax: "1"']);
    expect(tokens('x[5m*2]', 2)).toEqual(['IDENTIFIER:x', 'LEFT_BRACKET:[', 'DURATION:5m', 'MUL:*', 'NUMBER:2', 'RIGHT_BRACKET:]']);
    expect(tokens('limitk a </ b', 2)).toEqual(['IDENTIFIER:limitk', 'IDENTIFIER:a', 'LSS:<', 'DIV:/', 'IDENTIFIER:b']);
  });

  it('reports lexical errors with Go\'s quoting', () => {
    expect(tokens('up{a="\\q"}')).toEqual(['IDENTIFIER:up', 'LEFT_BRACE:{', 'IDENTIFIER:a', 'EQL:=', "ERROR:unknown escape sequence U+0071 'q'"]);
    expect(tokens('a $')).toEqual(['IDENTIFIER:a', "ERROR:unexpected character: '$'"]);
    expect(tokens('0xee')).toEqual(['ERROR:bad number or duration syntax: "0xee"']);
  });
});

describe('precedence and associativity (the grammar\'s %left/%right/%prec)', () => {
  it.each([
    ['a - b offset 1h', '(- a b offset 3600s)'],
    ['a - b offset 1h @ 100', '(- a b offset 3600s @ 100000ms)'],
    ['-2^2', '(- (^ 2 2))'],
    ['2 ^ -3 ^ 2', '(^ 2 (- (^ 3 2)))'],
    ['2 ^ -3 * 4', '(* (^ 2 -3) 4)'],
    ['-a * b', '(* (- a) b)'],
    ['a * -b ^ c', '(* a (- (^ b c)))'],
    ['a + b * c - d', '(- (+ a (* b c)) d)'],
    ['a ^ b ^ c', '(^ a (^ b c))'],
    ['a or b and c unless d', '(or a (unless (and b c) d))'],
    ['a == b + c > bool d', '(> bool (== a (+ b c)) d)'],
    ['a atan2 b * c', '(* (atan2 a b) c)'],
    ['-x offset 1h', '(- x offset 3600s)'],
    ['-1', '-1'],
    ['- - 1', '1'],
    ['-(1)', '(- [1])'],
    ['+x', '(+ x)'],
  ])('%s', (q, expected) => {
    expect(shape(q)).toBe(expected);
  });
});

describe('the tree', () => {
  it.each([
    ['sum by (a, "k8s.pod") (x)', '(sum by(a,k8s.pod) x)'],
    ['sum(x) without (a,)', '(sum without(a) x)'],
    ['topk(3, x)', '(topk 3 x)'],
    ['count_values("v", x)', '(count_values "v" x)'],
    ['SUM(x)', '(sum x)'],
    ['sum', 'sum'],
    ['sum + by', '(+ sum by)'],
    ['and and and', '(and and and)'],
    ['offset offset 5m', 'offset offset 300s'],
    ['a / on(x, y) group_left(z) b', '(/ on(x,y) many-to-one(z) a b)'],
    ['a * ignoring(x) group_right b', '(* ignoring(x) one-to-many() a b)'],
    ['a and on(x) b', '(and on(x) a b)'],
    ['a + fill(0) b', '(+ fill(0,0) a b)'],
    ['a + on(x) fill_right(-1) fill_left(2) b', '(+ on(x) fill(2,-1) a b)'],
    ['x[5m] offset 1h @ start()', '(range x offset 3600s @ start() 300s)'],
    ['x[5m:1m]', '(subquery x 300s 60s)'],
    ['rate(x[5m])[1h:] offset 10m @ 100', '(subquery (rate (range x 300s)) 3600s - offset 600s @ 100000ms)'],
    ['x{a="b", c!~"d|e",}', 'x{a="b",c!~"d|e"}'],
    ['{"http.server.duration", "k8s.pod"="x"}', 'http.server.duration{k8s.pod="x"}'],
    ['{__name__="up"}', '{__name__="up"}'],
    ['x{a=`raw\\`}', 'x{a="raw\\\\"}'],
    ['x{a="\\u00fc\\x41\\101"}', 'x{a="üAA"}'],
    ['# leading comment\nup # trailing', 'up'],
    ['histogram_quantile(1./6., x)', '(histogram_quantile (/ 1 6) x)'],
    ['holt_winters(x[30m], 0.5, 0.5)', '(holt_winters (range x 1800s) 0.5 0.5)'],
    ['foo(x)', '(foo x)'],
    ['1_000 + 0x1F + 017 + 2. + .5', '(+ (+ (+ (+ 1000 31) 15) 2) 0.5)'],
    ['Inf - NaN', '(- Infinity NaN)'],
    ['5m + 1', '(+ 300s 1)'],
    ['x @ 1.5', 'x @ 1500ms'],
    ['limitk(2, x)', '(limitk 2 x)'],
    ['x[5m] anchored', '(range x anchored 300s)'],
    ['x smoothed', 'x smoothed'],
    ['a </ b', '(</ a b)'],
    ['step() + start()', '(+ (step) (start))'],
    ['x[5m*2]', '(range x (* 300s 2))'],
    ['x[(5m)]', '(range x [300s])'],
    ['x[1h:step()]', '(subquery x 3600s (step))'],
    ['x offset -step()*2', '(* x offset (- (step)) 2)'],
    ['x offset 5m + 1', '(+ x offset 300s 1)'],
    ['x offset -2 ^ 2', '(^ x offset -2 2)'],
    ['x offset (2 ^ 2)', 'x offset [(^ 2 2)]'],
    ['x offset (1h) + 1', 'x offset (+ [3600s] 1)'],
    ['x[max_of(min_of(step()+1,1h),1ms)]', '(range x (max_of (min_of (+ (step) 1) 3600s) 0.001s))'],
  ])('%s', (q, expected) => {
    expect(shape(q)).toBe(expected);
  });

  it('gives every node its exact place in the text', () => {
    const text = 'sum(rate(x{a="b"}[5m] offset 1m)) by (a) - (y @ 10)';
    const expr = parsePromQL(text);
    const source = (n: { from: number; to: number }) => text.slice(n.from, n.to);
    expect(expr.kind).toBe('binary');
    if (expr.kind !== 'binary' || expr.lhs.kind !== 'aggregate' || expr.rhs.kind !== 'paren') throw new Error('shape');
    expect(source(expr.lhs)).toBe('sum(rate(x{a="b"}[5m] offset 1m)) by (a)');
    expect(source(expr.lhs.grouping!)).toBe('by (a)');
    expect(source(expr.opSpan)).toBe('-');
    expect(source(expr.rhs)).toBe('(y @ 10)');
    const rate = expr.lhs.expr;
    if (rate.kind !== 'call' || rate.args[0]?.kind !== 'matrixSelector') throw new Error('shape');
    const matrix = rate.args[0];
    expect(source(matrix)).toBe('x{a="b"}[5m] offset 1m');
    expect(source(matrix.selector)).toBe('x{a="b"}');
    expect(source(matrix.selector.braces!)).toBe('{a="b"}');
    expect(source(matrix.selector.matchers[0]!)).toBe('a="b"');
    expect(source(matrix.selector.offset!)).toBe('offset 1m');
    expect(source(matrix.range)).toBe('5m');
    const inner = expr.rhs.expr;
    if (inner.kind !== 'vectorSelector') throw new Error('shape');
    expect(source(inner)).toBe('y @ 10');
    expect(source(inner.at!)).toBe('@ 10');
    const spaced = parsePromQL('  -1 # c');
    expect([spaced.from, spaced.to]).toEqual([2, 4]);
  });

  it('marks the queries whose verdict depends on the major', () => {
    const sensitive = (q: string) => parseQuery(q).dialectSensitive;
    for (const q of ['up', 'rate(x[5m] offset 1h)', 'x[5m:1m] @ 100', 'sum by (a) (x) > 1e3', 'x offset -1m']) expect(sensitive(q), q).toBe(false);
    for (const q of ['holt_winters(x[5m], 1, 1)', 'mad_over_time(x[5m])', 'foo(x)', '{"a"}', 'x[5]', 'x offset 0s', '1_000', '5m', 'limitk(1, x)', 'x @ 5m', 'x offset +1m', 'sum by (a:b) (x)', 'a + fill(0) b']) {
      expect(sensitive(q), q).toBe(true);
    }
  });
});

describe('errors (Prometheus 2.42\'s words, positions in bytes)', () => {
  it.each([
    ['', '1:1: parse error: no expression found in input'],
    ['# only a comment', '1:1: parse error: no expression found in input'],
    ['sum(up', '1:7: parse error: unclosed left parenthesis'],
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
    ['up\n  + }', "2:5: parse error: unexpected character: '}'"],
    ['up{cluster="\\q"}', "1:12: parse error: unknown escape sequence U+0071 'q'"],
    ['up{a=~"("}', '1:4: parse error: error parsing regexp: missing closing ): `^(?:()$`'],
    ['x{a=~"a)|(b"}', '1:3: parse error: error parsing regexp: unexpected ): `a)|(b`'],
    ['sum(foo bar)', '1:9: parse error: unexpected identifier "bar" in aggregation'],
    ['rate(foo bar)', '1:10: parse error: unexpected identifier "bar"'],
    ['sum by x (y)', '1:8: parse error: unexpected identifier "x" in grouping opts, expected "("'],
    ['sum by (x y) (z)', '1:11: parse error: unexpected identifier "y" in grouping opts, expected "," or ")"'],
    ['{a b}', '1:4: parse error: unexpected identifier "b" in label matching, expected label matching operator'],
    ['{a=="x"}', '1:4: parse error: unexpected "=" in label matching, expected string'],
    ['x offset', '1:9: parse error: unexpected end of input in offset, expected duration'],
    ['x @ foo()', '1:5: parse error: unexpected identifier "foo" in @, expected timestamp'],
    ['a + group_left b', '1:5: parse error: unexpected <group_left>'],
    ['x[5m bar]', "1:7: parse error: unexpected colon 'a'"],
    ['x @ start', '1:10: parse error: unexpected end of input in @, expected timestamp'],
    ['rate(@x)', '1:6: parse error: unexpected "<Item 57385>" <op:@>'],
    ['rate(x[1m]@)', '1:12: parse error: unexpected ")" in @, expected timestamp'],
    ['sum()', '1:1: parse error: no arguments for aggregate expression provided'],
    ['topk(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['a offset 1h offset 2h', '1:1: parse error: offset may not be set multiple times'],
    ['sum(x) offset 1h', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['up offset 1m[5m]', '1:13: parse error: no offset modifiers allowed before range'],
    ['rate(up[5m]) [5m]', '1:14: parse error: ranges only allowed for vector selectors'],
    ['x @ 1e20', '1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000'],
    ['x @ inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
    ['1e500', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e500": value out of range'],
    ['1 + 1e', '1:5: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax'],
    ['x{a="ü"} + }', "1:13: parse error: unexpected character: '}'"],
  ])('%j', (q, message) => {
    expect(errorOf(q)).toBe(message);
  });

  it('refuses 3.x syntax in dialect 2, in 2.42\'s words', () => {
    expect(errorOf('holt_winters(x[5m], 1, 1) + limitk(1, x)', { dialect: 2 })).toBe('1:29: parse error: unknown function with name "limitk"');
    expect(errorOf('x offset 5', { dialect: 2 })).toBe('1:10: parse error: unexpected number "5" in offset, expected duration');
    expect(errorOf('x[5]', { dialect: 2 })).toBe('1:3: parse error: missing unit character in duration');
    expect(errorOf('{"up"}', { dialect: 2 })).toBe('1:2: parse error: unexpected string "\\"up\\"" in label matching, expected identifier or "}"');
    expect(errorOf('x offset 0s', { dialect: 2 })).toBe('1:10: parse error: duration must be greater than 0');
    // A duration cannot start an argument in 2.42: the comma before it is a trailing one.
    expect(errorOf('predict_linear(x[50m], 1h)', { dialect: 2 })).toBe('1:22: parse error: trailing commas not allowed in function call args');
  });

  it('refuses 2.x functions and disabled experiments in dialect 3, in 3.14\'s words', () => {
    const v3 = { dialect: 3 } as const;
    expect(errorOf('holt_winters(x[5m], 1, 1)', v3)).toBe('1:1: parse error: unknown function with name "holt_winters"');
    expect(errorOf('double_exponential_smoothing(x[5m], 1, 1)', v3)).toBe('1:1: parse error: function "double_exponential_smoothing" is not enabled');
    expect(errorOf('limitk(1, x)', v3)).toBe('1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions');
    expect(errorOf('x[5m] anchored', v3)).toBe('1:1: parse error: anchored modifier is experimental and not enabled');
    expect(errorOf('x[5m*2]', v3)).toBe('1:3: parse error: experimental duration expression is not enabled');
    expect(errorOf('a + fill(0) b', v3)).toBe('1:1: parse error: binop fill modifiers are experimental and not enabled');
    expect(errorOf('', v3)).toBe('unknown position: parse error: no expression found in input');
    const all = { dialect: 3, experimental: ALL_EXPERIMENTAL } as const;
    expect(shape('double_exponential_smoothing(x[5m], 1, 1)', all)).toBe('(double_exponential_smoothing (range x 300s) 1 1)');
    expect(errorOf('x[5m/0]', all)).toBe('1:5: parse error: division by zero');
    expect(errorOf('x[1h:-1m]', all)).toBe('1:6: parse error: duration must be greater than 0');
    expect(errorOf('x[5m] anchored smoothed', all)).toBe('1:1: parse error: anchored and smoothed modifiers cannot be used together');
    expect(errorOf('x[5m:] smoothed', all)).toBe('1:1: parse error: smoothed modifier is not supported for subqueries');
  });
});

describe(`nesting (the router's limit: ${MAX_DEPTH} levels)`, () => {
  const tooDeep = (q: string) => {
    try {
      parseQuery(q);
    } catch (err) {
      return err instanceof QueryTooDeepError && /the query nests deeper than \d+ levels, the router's limit/.test((err as Error).message);
    }
    return false;
  };

  it('accepts chains and nesting up to the limit', () => {
    const half = Math.floor(MAX_DEPTH / 2) - 1;
    expect(tooDeep(`${'('.repeat(half)}x${')'.repeat(half)}`)).toBe(false);
    expect(tooDeep(Array.from({ length: MAX_DEPTH - 1 }, (_, i) => `m${i}`).join(' or '))).toBe(false);
    expect(tooDeep(Array(MAX_DEPTH - 1).fill('1').join('+'))).toBe(false);
  });

  it('refuses deeper queries with a clear error, not a parse error or a crash', () => {
    expect(tooDeep(`${'('.repeat(MAX_DEPTH + 1)}x${')'.repeat(MAX_DEPTH + 1)}`)).toBe(true);
    expect(tooDeep(`${'('.repeat(200_000)}x`)).toBe(true);
    expect(tooDeep(Array.from({ length: MAX_DEPTH + 1 }, (_, i) => `m${i}`).join(' or '))).toBe(true);
    expect(tooDeep(Array(MAX_DEPTH + 1).fill('1').join('^'))).toBe(true);
    expect(tooDeep(`${'-'.repeat(MAX_DEPTH + 1)}1`)).toBe(true);
  });
});
