// The five properties, as predicates over one case (a query and a shard map). Each throws (an
// assertion error) when the property does not hold; the *.test.ts files run them with fast-check.
import { expect } from 'vitest';
import { vectorSelectors, type VectorSelector } from '../../lib/promql/ast.ts';
import { parsePromQL, PromQLSyntaxError, QueryTooDeepError } from '../../lib/promql/parse.ts';
import type { QueryPlan } from '../../lib/promql/plan.ts';
import { assertWithinBudget, describeError, exercise, isDocumented, type Case, type Rewrite } from './harness.ts';
import { judge } from './judge.ts';
import {
  asShardLabel, emptyBraces, expectedShards, LiteralError, namesOriginal, oracleReads, oracleSelectors, plainShardLabelStrings, regexErrors,
  SHARD_LABEL, stripShardWrappers,
  type Decoded, type OracleSelector,
} from './oracle.ts';

// --- Property 1: the router never crashes on a query. planQuery, forShard (for every shard),
// checkFor(2) and, for a query it passes, compileQuery (with and without push-down) and every leaf's forShard either succeed or throw one of
// the documented errors (PromQLSyntaxError, UnsupportedQueryError, EvaluationError), never a
// TypeError, RangeError, StringLiteralError, ApiError or anything else; a syntax error's position lies
// in the query; each case finishes within its time budget (a hang is caught by the watchdog).

export function neverCrashes(c: Case): void {
  const outcome = exercise(c);
  assertWithinBudget(outcome);
  for (const { step, error } of outcome.errors) {
    if (!isDocumented(error)) throw new Error(`${step} threw ${describeError(error)}`);
    if (error instanceof PromQLSyntaxError) {
      const p = error.position;
      if (!Number.isInteger(p) || p < 0 || p > c.text.length) throw new Error(`${step}: syntax error position ${p} outside the query`);
      const format = error instanceof QueryTooDeepError ? /^the query nests deeper than \d+ levels, the router's limit \(at \d+:\d+\)$/ : /^\d+:\d+: parse error: ./su;
      if (!format.test(error.message)) throw new Error(`${step}: syntax error message ${JSON.stringify(error.message)}`);
    }
  }
}

// --- Property 2: valid input stays valid. A query valid by the judge is accepted by planQuery; for a
// query the router accepts, every query it sends to a shard (forShard for each shard, each compiled
// leaf's forShard for each of the leaf's shards) parses with parsePromQL too. Where the original is
// valid by the judge (judge.ts: the lezer grammar, every string literal decoding as Prometheus's lexer
// decodes it, every regex compiling as Go's regexp, no selector whose matchers all match "" — "vector
// selector must contain at least one non-empty matcher"), every rewrite is valid by the same judge.
// (stays-valid-promtool.test.ts repeats this with the real Prometheus 2.42 parser as the judge, and
// also holds checkFor(2), run before compileQuery as the API runs it, to 2.42's verdicts.)

const where = (r: Rewrite) => (r.leaf === null ? `forShard(${JSON.stringify(r.shard)})` : `leaf ${JSON.stringify(r.plan.text)} for ${JSON.stringify(r.shard)}`);

export function staysValid(c: Case): void {
  const outcome = exercise(c);
  assertWithinBudget(outcome);
  const originalProblems = judge(c.text);
  if (outcome.plan === null) {
    if (originalProblems.length === 0) throw new Error(`planQuery rejects a valid query: ${describeError(outcome.errors[0]?.error)}`);
    return;
  }
  // Validity depends on the text only: judge each distinct query once.
  const all = [...new Map([...outcome.rewrites, ...outcome.leafRewrites].map((r) => [r.query, r])).values()];
  for (const r of all) {
    try {
      parsePromQL(r.query);
    } catch (err) {
      throw new Error(`${where(r)} sends a query that does not parse: ${JSON.stringify(r.query)}: ${describeError(err)}`);
    }
  }
  // checkFor(2) judges the query as Prometheus 2.42 (the shards' major) does, which the judge here,
  // a 3.x grammar, cannot tell: stays-valid-promtool.test.ts holds its syntax errors to 2.42's.
  if (originalProblems.length > 0) return;
  for (const r of all) {
    const problems = judge(r.query);
    if (problems.length > 0) throw new Error(`${where(r)} makes the valid query invalid: ${JSON.stringify(r.query)}: ${problems.join('; ')}`);
  }
}

// --- Property 3: a query is never sent to a shard its matchers exclude. Computed independently of
// lib/promql (oracle.ts: the test's own literal decoding and RE2 whole-value matching, "" for a
// missing label as in Prometheus): a selector reads shard s iff all its `cluster` matchers accept s;
// a shard is in plan.shards iff some selector reads it; forShard(s) leaves a selector that does not
// read s selecting nothing (its braces hold `cluster!=""`) and a selector that reads s without any
// cluster matcher. Compiled leaves go to exactly the shards their own selectors read, never outside
// plan.shards. A query Prometheus rejects for its matchers (bad literal, bad regex) is rejected.
// For grammar-generated queries, the decoded selectors must also be what the generator wrote.

function readSelectors(text: string, what: string): OracleSelector[] {
  try {
    return oracleSelectors(text);
  } catch (err) {
    if (err instanceof LiteralError) throw new Error(`${what} accepted a selector literal Prometheus rejects (${err.message}): ${JSON.stringify(text)}`);
    throw err;
  }
}

/** The plan routes each selector, and the whole query, exactly as the oracle does. */
function checkPlan(plan: QueryPlan, shards: readonly string[], what: string): OracleSelector[] {
  const selectors = readSelectors(plan.text, what);
  const badRegexes = regexErrors(selectors);
  if (badRegexes.length > 0) throw new Error(`${what} accepted a regex Prometheus rejects: ${badRegexes.join('; ')}`);
  expect(plan.selectors.length, `${what}: number of selectors`).toBe(selectors.length);
  const touched = new Set<string>();
  selectors.forEach((s, i) => {
    const expected = expectedShards(s, shards);
    expected.forEach((name) => touched.add(name));
    expect([...plan.shardsOf(plan.selectors[i]!)], `${what}: shards of ${JSON.stringify(plan.text.slice(s.from, s.to))}`).toEqual(expected);
  });
  expect([...plan.shards], `${what}: plan.shards`).toEqual(shards.filter((s) => touched.has(s)));
  return selectors;
}

/** A rewrite keeps selectors that read its shard free of cluster matchers, and the others excluded. */
function checkRewrite(r: Rewrite, original: readonly OracleSelector[], shards: readonly string[]): void {
  const rewritten = readSelectors(asShardLabel(r.query), `rewrite for ${JSON.stringify(r.shard)}`);
  expect(rewritten.length, `selectors of ${JSON.stringify(r.query)}`).toBe(original.length);
  original.forEach((s, i) => {
    const own = rewritten[i]!.matchers.filter((m) => m.name === SHARD_LABEL);
    const reads = expectedShards(s, shards).includes(r.shard);
    const where = `${JSON.stringify(r.plan.text.slice(s.from, s.to))} in ${JSON.stringify(r.query)} for shard ${JSON.stringify(r.shard)}`;
    if (reads) {
      expect(own.map((m) => m.source), `cluster matchers left in ${where}`).toEqual([]);
    } else {
      const excluded = own.some((m) => m.op === '!=' && m.value.text === '');
      expect(excluded, `${where} must select nothing (cluster!="")`).toBe(true);
    }
  });
}

/** The generator's intent: the metric names and matchers it wrote, decoded (the oracle's reading too, if it has one). */
function checkIntent(c: Case, selectors: readonly OracleSelector[] | null, plan: QueryPlan): void {
  const gen = c.gen;
  if (gen === null) return;
  if (gen.selectors.some((s) => s.matchers.some((m) => m.value === null))) {
    throw new Error('planQuery accepted a selector with a literal Prometheus rejects');
  }
  const intent = gen.selectors.map((s) => ({ metricName: s.metricName, matchers: s.matchers.map((m) => [m.name, m.op, m.value]) }));
  const lib = plan.selectors.map((s) => ({ metricName: s.metricName, matchers: s.matchers.map((m) => [m.name, m.op, m.value]) }));
  if (selectors !== null) {
    const oracle = selectors.map((s) => ({ metricName: s.metricName, matchers: s.matchers.map((m) => [m.name, m.op, m.value.text]) }));
    expect(oracle, 'the oracle reads what the generator wrote').toEqual(intent);
  }
  // lib reports a quoted metric name `{"up"}` as the metric name, `__name__="up"` as a matcher: as written.
  expect(lib, 'the parser reads what the generator wrote').toEqual(intent);
}

/** Routing by the generator's intent, for a query the oracle cannot read (see oracleGaps). */
function checkPlanByIntent(c: Case, plan: QueryPlan): void {
  const gen = c.gen;
  if (gen === null) return;
  checkIntent(c, null, plan);
  const utf8 = new TextEncoder();
  const decoded = (text: string): Decoded => ({ bytes: utf8.encode(text), text });
  const touched = new Set<string>();
  gen.selectors.forEach((s, i) => {
    const expected = expectedShards({ matchers: s.matchers.map((m) => ({ name: m.name, op: m.op, value: decoded(m.value!) })) }, c.shards);
    expected.forEach((name) => touched.add(name));
    expect([...plan.shardsOf(plan.selectors[i]!)], `planQuery: shards of selector ${i}`).toEqual(expected);
  });
  expect([...plan.shards], 'planQuery: plan.shards').toEqual(c.shards.filter((s) => touched.has(s)));
}

export function routesByMatchers(c: Case): void {
  const outcome = exercise(c);
  assertWithinBudget(outcome);
  const plan = outcome.plan;
  if (plan === null) return;
  if (!oracleReads(plan.text)) {
    checkPlanByIntent(c, plan);
    return;
  }
  const selectors = checkPlan(plan, c.shards, 'planQuery');
  checkIntent(c, selectors, plan);
  const rewritesChecked = !namesOriginal(c.text);
  for (const r of outcome.rewrites) if (rewritesChecked && oracleReads(r.query)) checkRewrite(r, selectors, c.shards);
  for (const compiled of outcome.compiled) {
    for (const leaf of compiled.leaves) {
      const what = `leaf ${JSON.stringify(leaf.plan.text)}`;
      expect([...leaf.shards], `${what}: shards`).toEqual([...leaf.plan.shards]);
      for (const s of leaf.shards) expect(plan.shards, `${what} goes to a shard the query does not read`).toContain(s);
      if (!oracleReads(leaf.plan.text)) continue;
      const leafSelectors = checkPlan(leaf.plan, c.shards, what);
      for (const r of outcome.leafRewrites.filter((x) => x.leaf === leaf)) if (rewritesChecked && oracleReads(r.query)) checkRewrite(r, leafSelectors, c.shards);
    }
  }
}

// --- Property 4: no non-shard matcher is ever dropped. In every query sent to a shard (forShard for
// each shard, each leaf's forShard), every selector keeps its metric name and every matcher on
// another label than `cluster` with the same label name, operator and decoded value, in order
// (compared with the parsed selectors of both texts). The only matcher the router may add is
// `__name__=~".+"`, in front, to a selector without a (non-empty) metric name. Compiled leaves,
// together, contain every selector of the query as written, and no other.

const others = (s: VectorSelector) => s.matchers.filter((m) => m.name !== SHARD_LABEL).map((m) => ({ name: m.name, op: m.op, value: m.value }));
const ADDED_MATCHER = { name: '__name__', op: '=~', value: '.+' };

const selectorTexts = (text: string) => vectorSelectors(parsePromQL(text)).map((s) => text.slice(s.from, s.to));

export function keepsMatchers(c: Case): void {
  const outcome = exercise(c);
  assertWithinBudget(outcome);
  if (outcome.plan === null || namesOriginal(c.text)) return;
  for (const r of [...outcome.rewrites, ...outcome.leafRewrites]) {
    const before = r.plan.selectors;
    const after = vectorSelectors(parsePromQL(asShardLabel(r.query)));
    expect(after.length, `selectors of ${JSON.stringify(r.query)}`).toBe(before.length);
    before.forEach((s, i) => {
      const where = `${JSON.stringify(r.plan.text.slice(s.from, s.to))} → ${JSON.stringify(r.query)} (shard ${JSON.stringify(r.shard)})`;
      const w = after[i]!;
      expect(w.metricName, `metric name of ${where}`).toBe(s.metricName);
      let kept = others(w);
      const first = kept[0];
      if (first !== undefined && first.name === ADDED_MATCHER.name && first.op === ADDED_MATCHER.op && first.value === ADDED_MATCHER.value
        && kept.length === others(s).length + 1) {
        // Only where it cannot change what is selected: no metric name (or the empty one, which matches nothing).
        expect(s.metricName ?? '', `__name__=~".+" added to a selector with a metric name: ${where}`).toBe('');
        kept = kept.slice(1);
      }
      expect(kept, `non-shard matchers of ${where}`).toEqual(others(s));
    });
  }
  const original = selectorTexts(c.text).sort();
  for (const compiled of outcome.compiled) {
    const inLeaves = new Set(compiled.leaves.flatMap((leaf) => selectorTexts(leaf.plan.text)));
    for (const s of inLeaves) expect(original, `a leaf selects ${JSON.stringify(s)}, not in the query`).toContain(s);
    for (const s of original) expect([...inLeaves], `no leaf reads ${JSON.stringify(s)}`).toContain(s);
  }
}

// --- Property 5: the rest of the text is untouched. Outside the selectors' braces, a query sent to a
// shard is the original byte for byte once the router's `label_replace(X, "cluster", "<v>", "", "")`
// wrappers are removed (whitespace, comments, quoting, offsets, @, ranges, keywords' case), the
// collectors' name of the shard label read as `cluster` (asShardLabel: label names by/on/... name the
// shard label as collectors know it) and string literals spelling `cluster` written plainly (the
// router writes a translated name anew); inside
// the braces, the matchers on other labels than `cluster` are the original's as written, in order.
// (A wrapper of exactly that form already in the original is removed from both texts alike.)

const ADDED_NAME = '__name__=~".+"';

function readable(text: string): OracleSelector[] | null {
  try {
    return oracleSelectors(text);
  } catch (err) {
    // A selector literal Prometheus would reject: property 3's business.
    if (err instanceof LiteralError) return null;
    throw err;
  }
}

export function leavesTextAlone(c: Case): void {
  const outcome = exercise(c);
  assertWithinBudget(outcome);
  if (outcome.plan === null || namesOriginal(c.text)) return;
  for (const rewrite of [...outcome.rewrites, ...outcome.leafRewrites]) {
    const r = { ...rewrite, query: asShardLabel(rewrite.query) };
    if (!oracleReads(r.plan.text) || !oracleReads(r.query)) continue;
    const where = `${JSON.stringify(r.plan.text)} → ${JSON.stringify(rewrite.query)} (shard ${JSON.stringify(r.shard)})`;
    const outside = (text: string) => emptyBraces(stripShardWrappers(plainShardLabelStrings(text)));
    expect(outside(r.query), `outside the braces: ${where}`).toBe(outside(r.plan.text));
    const before = readable(r.plan.text);
    if (before === null) continue;
    const after = oracleSelectors(r.query);
    expect(after.length, `selectors: ${where}`).toBe(before.length);
    before.forEach((s, i) => {
      const kept = after[i]!.matchers.filter((m) => m.name !== SHARD_LABEL).map((m) => m.source);
      const expected = s.matchers.filter((m) => m.name !== SHARD_LABEL).map((m) => m.source);
      if (kept[0] === ADDED_NAME && kept.length === expected.length + 1) kept.shift();
      expect(kept, `matchers as written in ${JSON.stringify(r.plan.text.slice(s.from, s.to))}: ${where}`).toEqual(expected);
    });
  }
}
