// A grammar-aware PromQL generator. Every generated query carries what the generator meant: its
// selectors in text order with each matcher's label name, operator and decoded value, so the test
// can check the router's reading against the writer's intent, not against another parser.
import fc from 'fast-check';
import type { Op } from '../oracle.ts';
import {
  freeStringArb, literalArb, plainValueArb, regexArb, SHARD_POOL, ws1Arb, wsArb, type Literal,
} from './common.ts';

export interface GenMatcher {
  readonly name: string;
  readonly op: Op;
  /** null: the literal was deliberately broken. */
  readonly value: string | null;
}

export interface GenSelector {
  readonly metricName: string | null;
  readonly matchers: readonly GenMatcher[];
}

export interface GenQuery {
  readonly text: string;
  readonly selectors: readonly GenSelector[];
  /** Some literal of the query is deliberately invalid: Prometheus rejects the query. */
  readonly broken: boolean;
}

/** A piece of query text with the selectors written in it, in order. */
interface Piece {
  readonly t: string;
  readonly s: readonly GenSelector[];
  readonly broken: boolean;
  /** Can take `[range]`, `[range:step]` or a modifier directly (no parentheses needed). */
  readonly atomic: boolean;
}

type Part = string | Piece | Literal;

function join(parts: readonly Part[], atomic = false): Piece {
  let t = '';
  const s: GenSelector[] = [];
  let broken = false;
  for (const p of parts) {
    if (typeof p === 'string') {
      t += p;
    } else if ('s' in p) {
      t += p.t;
      s.push(...p.s);
      broken ||= p.broken;
    } else {
      t += p.text;
      broken ||= p.value === null;
    }
  }
  return { t, s, broken, atomic };
}

const lit = (s: string) => fc.constant(s);
const oneOf = (...xs: string[]) => fc.constantFrom(...xs);

// --- selectors -----------------------------------------------------------------------------------

const METRIC_NAMES = [
  'up', 'http_requests_total', 'node:cpu:rate5m', 'x', '_', 'a_b:c', 'cluster', 'job', 'nan_x', 'inf_y', 'by_z',
  'sum_x', 'le', 'rate_', 'bool_', 'instance',
];
const QUOTED_METRIC_NAMES = ['up', 'ü.metric', 'with space', 'sum', 'by', 'a"b', 'cluster', ''];
const OTHER_LABELS = ['job', 'instance', 'le', '__name__', 'by', 'on', 'offset', 'bool', 'Cluster', 'cluster_x', 'ü.x', 'a b'];
const IDENT = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labelNameArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant('cluster') },
  { weight: 4, arbitrary: fc.constantFrom(...OTHER_LABELS) },
);

/** A label name as written: bare where it can be, or quoted (PromQL 3's UTF-8 names). */
const writtenLabelArb = (name: string): fc.Arbitrary<Literal> =>
  IDENT.test(name)
    ? fc.oneof({ weight: 6, arbitrary: fc.constant({ text: name, value: name }) }, { weight: 1, arbitrary: literalArb(fc.constant(name), false) })
    : literalArb(fc.constant(name), false);

const matcherArb: fc.Arbitrary<{ text: string; m: GenMatcher }> = labelNameArb.chain((name) =>
  fc.tuple(
    writtenLabelArb(name),
    wsArb,
    fc.constantFrom<Op>('=', '!=', '=~', '!~'),
    wsArb,
  ).chain(([label, w1, op, w2]) =>
    literalArb(op === '=' || op === '!=' ? plainValueArb : regexArb).map((value) => ({
      text: label.text + w1 + op + w2 + value.text,
      m: { name, op, value: value.value },
    })),
  ),
);

/** The optional quoted metric name inside the braces: `{"up", job="x"}`. */
const quotedNameArb = literalArb(fc.constantFrom(...QUOTED_METRIC_NAMES), false);

const selectorArb: fc.Arbitrary<Piece> = fc.tuple(
  fc.option(fc.constantFrom(...METRIC_NAMES), { nil: null, freq: 4 }),
  fc.option(quotedNameArb, { nil: null, freq: 8 }),
  fc.array(fc.tuple(wsArb, matcherArb, wsArb), { minLength: 0, maxLength: 4 }),
  fc.boolean(),
  fc.nat(3),
).map(([name, quotedName, matchers, trailingComma, bracesChoice]) => {
  const useQuotedName = name === null && quotedName !== null;
  const items = matchers.map(([a, m, b]) => a + m.text + b);
  if (useQuotedName) items.unshift(quotedName.text);
  const needBraces = name === null || items.length > 0 || bracesChoice === 0;
  const inner = items.join(',') + (trailingComma && items.length > 0 ? ',' : '');
  const metricName = name ?? (useQuotedName ? quotedName.value : null);
  const t = (name ?? '') + (needBraces ? `{${inner}}` : '');
  const sel: GenSelector = { metricName, matchers: matchers.map(([, m]) => m.m) };
  return { t, s: [sel], broken: matchers.some(([, m]) => m.m.value === null), atomic: true };
});

// --- literals, durations, modifiers ---------------------------------------------------------------

const numberArb = fc.oneof(
  { weight: 20, arbitrary: oneOf('1', '0', '0.5', '1e3', '2.5e-3', '0x1F', 'Inf', 'NaN', 'nan', '.5', '100', '3') },
  // PromQL 3 number syntax the lezer grammar accepts: underscores, durations as numbers.
  { weight: 1, arbitrary: oneOf('1_000', '5m') },
);
const durationArb = fc.oneof(
  { weight: 20, arbitrary: oneOf('5m', '1h', '30s', '1h30m', '1d', '1w', '1y', '500ms', '2h45m10s', '10m', '15s', '1m') },
  // PromQL 3 duration expressions, which the lezer grammar accepts.
  { weight: 1, arbitrary: oneOf('(1m+2m)', '5m*2', 'step()', '1m+30s', '(5m)', '300') },
);
const offsetArb = fc.tuple(ws1Arb, wsArb, oneOf('', '', '-'), durationArb)
  .map(([a, b, sign, d]) => `${a}offset${b === '' ? ' ' : b}${sign}${d}`);
const atArb = fc.tuple(wsArb, wsArb, oneOf('1609746000', '1609746000.5', 'start()', 'end()', '100', '-100', '1e9'))
  .map(([a, b, v]) => `${a}@${b}${v}`);
const modifiersArb = fc.oneof(
  { weight: 10, arbitrary: lit('') },
  { weight: 2, arbitrary: offsetArb },
  { weight: 2, arbitrary: atArb },
  { weight: 1, arbitrary: fc.tuple(atArb, offsetArb).map(([a, o]) => a + o) },
  { weight: 1, arbitrary: fc.tuple(offsetArb, atArb).map(([o, a]) => o + a) },
);

const groupingListArb = fc.tuple(
  fc.array(fc.tuple(wsArb, fc.constantFrom('cluster', 'job', 'instance', 'le', '"cluster"', '"ü"', 'by', "'job'"), wsArb), { maxLength: 3 }),
  fc.boolean(),
).map(([labels, comma]) => `(${labels.map(([a, l, b]) => a + l + b).join(',')}${comma && labels.length > 0 ? ',' : ''})`);

const stringArgArb = (values: string[]) => literalArb(fc.oneof(fc.constantFrom(...values), freeStringArb));
const labelArgArb = stringArgArb(['cluster', 'job', 'instance', '', 'x', 'cluster ', 'le']);

// --- expressions ---------------------------------------------------------------------------------

const INSTANT_FNS = ['abs', 'ceil', 'floor', 'exp', 'ln', 'sqrt', 'round', 'sgn', 'timestamp', 'sort', 'sort_desc', 'days_in_month', 'hour', 'year', 'deg'];
const RANGE_FNS = [
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'changes', 'resets', 'avg_over_time', 'min_over_time',
  'max_over_time', 'sum_over_time', 'count_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time',
  'present_over_time', 'absent_over_time', 'mad_over_time',
];
const SIMPLE_AGGS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'SUM', 'Avg'];
const PARAM_AGGS = ['topk', 'bottomk', 'quantile', 'limitk', 'limit_ratio'];
const ARITH_OPS = ['+', '-', '*', '/', '%', '^', 'atan2'];
const COMPARISON_OPS = ['==', '!=', '>', '<', '>=', '<='];
const SET_OPS = ['and', 'or', 'unless'];

const call = (name: string, ...args: fc.Arbitrary<Piece | Literal>[]) =>
  fc.tuple(wsArb, fc.tuple(...args.map((a) => fc.tuple(wsArb, a, wsArb)))).map(([w, parts]) => {
    const flat: Part[] = [name, w, '('];
    parts.forEach(([a, p, b], i) => flat.push(i === 0 ? '' : ',', a, p, b));
    flat.push(')');
    return join(flat, true);
  });

const paren = (p: fc.Arbitrary<Piece>) => fc.tuple(wsArb, p, wsArb).map(([a, x, b]) => join(['(', a, x, b, ')'], true));

const atomicOrParen = (p: fc.Arbitrary<Piece>) =>
  fc.tuple(p, wsArb, wsArb).map(([x, a, b]) => (x.atomic ? x : join(['(', a, x, b, ')'], true)));

interface Typed {
  vector: fc.Arbitrary<Piece>;
  range: fc.Arbitrary<Piece>;
  scalar: fc.Arbitrary<Piece>;
}

const cache = new Map<number, Typed>();

function typed(depth: number): Typed {
  let t = cache.get(depth);
  if (t !== undefined) return t;
  const scalarLeaf = numberArb.map((n) => join([n], true));
  const stringLeaf = labelArgArb.map((l) => join([l], true));
  const vectorLeaf = fc.tuple(selectorArb, modifiersArb).map(([s, m]) => join([s, m], m === ''));
  const rangeLeaf = fc.tuple(selectorArb, wsArb, durationArb, wsArb, modifiersArb)
    .map(([s, a, d, b, m]) => join([s, '[', a, d, b, ']', m], m === ''));
  if (depth <= 0) {
    t = { vector: vectorLeaf, range: rangeLeaf, scalar: scalarLeaf };
    cache.set(depth, t);
    return t;
  }
  const sub = typed(depth - 1);
  const v = sub.vector;
  const s = sub.scalar;

  const subquery = fc.tuple(atomicOrParen(v), durationArb, fc.option(durationArb, { nil: '' }), modifiersArb)
    .map(([x, r, st, m]) => join([x, `[${r}:${st}]`, m], m === ''));
  const range = fc.oneof({ weight: 3, arbitrary: rangeLeaf }, { weight: 2, arbitrary: subquery });

  const grouping = fc.tuple(ws1Arb, oneOf('by', 'without', 'BY', 'Without'), wsArb, groupingListArb)
    .map(([a, kw, b, list]) => `${a}${kw}${b}${list}`);
  const aggregate = fc.tuple(
    fc.oneof(
      fc.tuple(oneOf(...SIMPLE_AGGS), v.map((x) => [x] as Piece[])),
      fc.tuple(oneOf(...PARAM_AGGS), fc.tuple(s, v).map((xs) => xs as Piece[])),
      fc.tuple(lit('count_values'), fc.tuple(labelArgArb.map((l) => join([l])), v).map((xs) => xs as Piece[])),
    ),
    fc.option(grouping, { nil: null }),
    fc.boolean(),
    wsArb,
    fc.array(wsArb, { minLength: 4, maxLength: 4 }),
  ).map(([[op, args], g, before, w, ws]) => {
    const body: Part[] = ['(', ws[0]!];
    args.forEach((a, i) => body.push(i === 0 ? '' : `,${ws[1]}`, a));
    body.push(ws[2]!, ')');
    const parts: Part[] = g === null ? [op, w, ...body] : before ? [op, g, ws[3]!, ...body] : [op, w, ...body, g];
    return join(parts, true);
  });

  const binModifiers = fc.tuple(
    fc.option(fc.tuple(ws1Arb, oneOf('on', 'ignoring'), wsArb, groupingListArb).map((p) => p.join('')), { nil: '' }),
    fc.option(fc.tuple(ws1Arb, oneOf('group_left', 'group_right'), wsArb, fc.option(groupingListArb, { nil: '' })).map((p) => p.join('')), { nil: '' }),
  ).map(([matching, group]) => (matching === '' ? '' : matching + group));
  const vectorBinary = fc.tuple(
    v, ws1Arb,
    fc.oneof(
      fc.tuple(oneOf(...ARITH_OPS), lit(''), binModifiers),
      fc.tuple(oneOf(...COMPARISON_OPS), oneOf('', '', ' bool'), binModifiers),
      fc.tuple(oneOf(...SET_OPS), lit(''), fc.option(fc.tuple(ws1Arb, oneOf('on', 'ignoring'), wsArb, groupingListArb).map((p) => p.join('')), { nil: '' })),
    ),
    ws1Arb, v,
  ).map(([l, a, [op, bool, mods], b, r]) => join([l, a, op, bool, mods, b, r]));
  const scalarBinary = fc.tuple(fc.boolean(), s, ws1Arb, oneOf(...ARITH_OPS, ...COMPARISON_OPS.map((o) => `${o} bool`)), ws1Arb, v)
    .map(([flip, x, a, op, b, y]) => (flip ? join([y, a, op, b, x]) : join([x, a, op, b, y])));

  const fn = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INSTANT_FNS).chain((f) => call(f, v)) },
    { weight: 4, arbitrary: fc.constantFrom(...RANGE_FNS).chain((f) => call(f, range)) },
    { weight: 1, arbitrary: call('quantile_over_time', s, range) },
    { weight: 1, arbitrary: call('predict_linear', range, s) },
    { weight: 1, arbitrary: call('histogram_quantile', s, v) },
    { weight: 1, arbitrary: call('clamp', v, s, s) },
    { weight: 1, arbitrary: call('absent', v) },
    { weight: 1, arbitrary: call('vector', s) },
    { weight: 3, arbitrary: call('label_replace', v, labelArgArb, stringArgArb(['$1', 'a', '']), labelArgArb, literalArb(regexArb)) },
    { weight: 1, arbitrary: call('label_join', v, labelArgArb, stringArgArb([',', '-']), labelArgArb, labelArgArb) },
    { weight: 1, arbitrary: call('sort_by_label', v, labelArgArb) },
  );

  const vector = fc.oneof(
    { weight: 4, arbitrary: vectorLeaf },
    { weight: 3, arbitrary: fn },
    { weight: 3, arbitrary: aggregate },
    { weight: 3, arbitrary: vectorBinary },
    { weight: 1, arbitrary: scalarBinary },
    { weight: 1, arbitrary: paren(v) },
    { weight: 1, arbitrary: fc.tuple(oneOf('-', '+'), wsArb, atomicOrParen(v)).map(([op, w, x]) => join([op, w, x])) },
    { weight: 1, arbitrary: fc.tuple(atomicOrParen(v), offsetArb).map(([x, o]) => join([x, o])) },
  );
  const scalar = fc.oneof(
    { weight: 4, arbitrary: scalarLeaf },
    { weight: 1, arbitrary: call('scalar', v) },
    { weight: 1, arbitrary: fc.constantFrom('time()', 'pi()').map((x) => join([x], true)) },
    { weight: 1, arbitrary: fc.tuple(s, ws1Arb, oneOf(...ARITH_OPS), ws1Arb, s).map((p) => join(p)) },
  );
  void stringLeaf;
  t = { vector, range, scalar };
  cache.set(depth, t);
  return t;
}

/** A random PromQL query: mostly instant vectors, sometimes a range vector, scalar or string. */
export const promqlArb: fc.Arbitrary<GenQuery> = fc.tuple(
  wsArb,
  fc.oneof(
    { weight: 10, arbitrary: typed(3).vector },
    { weight: 2, arbitrary: typed(2).range },
    { weight: 1, arbitrary: typed(2).scalar },
    { weight: 1, arbitrary: labelArgArb.map((l) => join([l], true)) },
  ),
  wsArb,
).map(([a, p, b]) => ({ text: a + p.t + b, selectors: p.s, broken: p.broken }));

/** A cluster matcher as written, for injecting into corpus queries. */
export const clusterMatcherArb: fc.Arbitrary<string> = fc.tuple(
  writtenLabelArb('cluster'), wsArb, fc.constantFrom<Op>('=', '!=', '=~', '!~'), wsArb,
).chain(([label, a, op, b]) =>
  literalArb(op === '=' || op === '!=' ? fc.constantFrom(...SHARD_POOL, '', 'nope') : regexArb)
    .map((value) => `${label.text}${a}${op}${b}${value.text}`));
