// Mutations of the real query corpora: the PromQL compliance tester's expanded queries and the
// dashboards' expressions (Grafana variables substituted as the end-to-end tests do). Characters
// and tokens are inserted, deleted, replaced, duplicated and swapped; cluster matchers injected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { CORPUS_DIR, loadDashboardExprs } from '../../e2e/harness/corpus.ts';
import { dashboardExprToPromQL, substituteVariables } from '../../e2e/harness/variables.ts';
import { lezerAccepts, lezerTree, nodesOfType } from '../oracle.ts';
import { SHARD_POOL } from './common.ts';
import { clusterMatcherArb } from './promql.ts';

export const COMPLIANCE_QUERIES: readonly string[] = readFileSync(
  path.join(CORPUS_DIR, 'promql-compliance/expanded-queries.txt'), 'utf8',
).split('\n').filter((l) => l.trim() !== '');

const DASHBOARD_EXPRS: readonly string[] = loadDashboardExprs();

/** A corpus query: a compliance query, or a dashboard expression with `$cluster` etc. substituted. */
const baseArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...COMPLIANCE_QUERIES),
  fc.tuple(fc.constantFrom(...DASHBOARD_EXPRS), fc.constantFrom('a', 'b', ...SHARD_POOL))
    .map(([expr, shard]) => dashboardExprToPromQL(substituteVariables(expr, shard))),
);

const TOKEN_RE = /[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`|=~|!~|!=|==|>=|<=|\s+|#[^\n]*|[^]/gu;

const tokenize = (text: string): string[] => text.match(TOKEN_RE) ?? [];

const INSERT_CHARS = [
  '{', '}', '(', ')', '[', ']', '"', "'", '`', '\\', ',', '=', '!', '~', '+', '-', '*', '/', '^', '%', '@', ':', '#',
  '\n', ' ', '\t', 'a', '0', '.', 'ü', '😀', '\u00a0', '\u2028', '$', '|', '<', '>', '\x00',
];
const TOKEN_POOL = [
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2',
  '@', 'start()', 'end()', '[5m]', '[5m:1m]', '[1h:]', 'offset 5m', 'offset -1m', '@ 100', 'sum', 'rate', 'cluster',
  '"cluster"', 'cluster="a"', '{cluster="b"}', 'label_replace', '(', ')', '{', '}', ',', '"', "'", '`a`', '5m',
  'topk(2,', 'count_values("cluster",', '# x\n', 'inf', 'nan', '0x1f', '1e3', 'fill(0)', 'smoothed', 'anchored',
  '</', '>/', 'step()',
];

/** Tokens and characters for queries made of nothing but random tokens. */
export const TOKEN_SOUP: readonly string[] = [...TOKEN_POOL, ...INSERT_CHARS, 'up', 'x', ' ', '"a"', '5', 'job="x"', '=~".*"'];

type Mutation = (text: string) => string;

const at = (n: number, len: number) => (len === 0 ? 0 : n % (len + 1));

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Characters.
  fc.tuple(fc.nat(), fc.constantFrom(...INSERT_CHARS)).map(([n, c]): Mutation => (t) => {
    const i = at(n, t.length);
    return t.slice(0, i) + c + t.slice(i);
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })).map(([n, len]): Mutation => (t) => {
    const i = at(n, t.length);
    return t.slice(0, i) + t.slice(i + len);
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...INSERT_CHARS)).map(([n, c]): Mutation => (t) => {
    const i = at(n, t.length);
    return t.slice(0, i) + c + t.slice(i + 1);
  }),
  // Tokens.
  fc.nat().map((n): Mutation => (t) => {
    const tokens = tokenize(t);
    tokens.splice(n % Math.max(tokens.length, 1), 1);
    return tokens.join('');
  }),
  fc.nat().map((n): Mutation => (t) => {
    const tokens = tokenize(t);
    const i = n % Math.max(tokens.length, 1);
    tokens.splice(i, 0, tokens[i] ?? '');
    return tokens.join('');
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([n, m]): Mutation => (t) => {
    const tokens = tokenize(t);
    if (tokens.length === 0) return t;
    const i = n % tokens.length;
    const j = m % tokens.length;
    [tokens[i], tokens[j]] = [tokens[j]!, tokens[i]!];
    return tokens.join('');
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...TOKEN_POOL), fc.boolean()).map(([n, tok, replace]): Mutation => (t) => {
    const tokens = tokenize(t);
    tokens.splice(n % (tokens.length + 1), replace ? 1 : 0, tok);
    return tokens.join('');
  }),
);

/**
 * Puts a cluster matcher into one selector: inside its braces (first or last) or as new braces after
 * its metric name. On a text that does not parse, after some `{`.
 */
const injectionArb: fc.Arbitrary<Mutation> = fc.tuple(fc.nat(), clusterMatcherArb, fc.boolean()).map(([n, matcher, first]): Mutation => (t) => {
  if (!lezerAccepts(t)) {
    const opens = [...t.matchAll(/\{/g)].map((m) => m.index);
    if (opens.length === 0) return t;
    const i = opens[n % opens.length]! + 1;
    return `${t.slice(0, i)}${matcher},${t.slice(i)}`;
  }
  const selectors = nodesOfType(lezerTree(t), 'VectorSelector');
  if (selectors.length === 0) return t;
  const sel = selectors[n % selectors.length]!;
  const braces = sel.getChild('LabelMatchers');
  if (braces === null) return `${t.slice(0, sel.to)}{${matcher}}${t.slice(sel.to)}`;
  const inner = t.slice(braces.from + 1, braces.to - 1);
  const empty = inner.trim() === '';
  if (first) return `${t.slice(0, braces.from + 1)}${matcher}${empty ? '' : ', '}${t.slice(braces.from + 1)}`;
  const sep = empty || /,\s*$/.test(inner) ? '' : ', ';
  return `${t.slice(0, braces.to - 1)}${sep}${matcher}${t.slice(braces.to - 1)}`;
});

/** A corpus query, with cluster matchers injected (valid queries) and/or random mutations. */
export const corpusArb: fc.Arbitrary<string> = fc.tuple(
  baseArb,
  fc.oneof(
    { weight: 3, arbitrary: fc.array(injectionArb, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 4, arbitrary: fc.array(fc.oneof({ weight: 1, arbitrary: injectionArb }, { weight: 3, arbitrary: mutationArb }), { minLength: 1, maxLength: 3 }) },
  ),
).map(([base, mutations]) => mutations.reduce((t, m) => m(t), base));
