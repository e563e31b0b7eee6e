// Shared by the property tests: run counts, the inputs (generated and mutated-corpus queries with a
// shard map), and `exercise`, which does with a query everything the router does with it.
import fc from 'fast-check';
import { afterAll, it } from 'vitest';
import { compileQuery, ENGINE_MAJOR, type CompiledQuery } from '../../lib/engine/compile.ts';
import type { Leaf } from '../../lib/engine/expr.ts';
import { EvaluationError, UnsupportedQueryError } from '../../lib/errors.ts';
import { PromQLSyntaxError } from '../../lib/promql/parse.ts';
import { planQuery, type QueryPlan } from '../../lib/promql/plan.ts';
import { shardsArb } from './generators/common.ts';
import { corpusArb } from './generators/corpus.ts';
import { promqlArb, type GenQuery } from './generators/promql.ts';
import { oracleGaps, SHARD_LABEL } from './oracle.ts';
import { Watchdog } from './watchdog.ts';

/**
 * Cases per property: 2,000 in `npm test`, PROPERTY_RUNS=100000 for the extended run; split evenly
 * between the two input sources (grammar-generated and mutated corpus queries).
 */
export const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
export const RUNS_PER_SOURCE = Math.ceil(RUNS / 2);
/** A case (one query through plan, every rewrite and compile) must finish within this. */
export const CASE_BUDGET_MS = Number(process.env.PROPERTY_CASE_BUDGET_MS ?? 2000);
/** A case still running after this is a hang: the watchdog kills the process. */
export const HANG_MS = Number(process.env.PROPERTY_HANG_MS ?? 20_000);
/** vitest's timeout for one property: generous, the per-case budget is what bounds a case. */
export const TEST_TIMEOUT_MS = 60_000 + RUNS_PER_SOURCE * 25;

/**
 * The fast run in `npm test` uses a fixed seed, so CI judges every commit on the same cases; the
 * extended run (PROPERTY_RUNS) explores with fresh seeds.
 */
const FAST_RUN_SEED = 20261123;

/**
 * fast-check parameters. Known counterexamples run first as `examples`; PROPERTY_SEED and
 * PROPERTY_PATH (both printed by fast-check on failure) replay a failing run.
 */
export function params<T = Case>(examples: readonly NoInfer<T>[] = [], numRuns = RUNS_PER_SOURCE): fc.Parameters<[T]> {
  const seed = process.env.PROPERTY_SEED ?? (process.env.PROPERTY_RUNS === undefined ? String(FAST_RUN_SEED) : undefined);
  const replayPath = process.env.PROPERTY_PATH;
  return {
    numRuns,
    examples: examples.map((e): [T] => [e]),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(replayPath === undefined ? {} : { path: replayPath }),
  };
}

export interface Case {
  readonly text: string;
  /** The shard map's names, in map order. */
  readonly shards: readonly string[];
  /** What the generator meant (grammar-generated cases only). */
  readonly gen: GenQuery | null;
}

/** A case as fast-check prints a counterexample: the query and the map, ready to paste into `example`. */
function makeCase(text: string, shards: readonly string[], gen: GenQuery | null): Case {
  return { text, shards, gen, [fc.toStringMethod]: () => `example(${JSON.stringify(text)}, ${JSON.stringify(shards)})` } as Case;
}

export const generatedCaseArb: fc.Arbitrary<Case> = fc.tuple(promqlArb, shardsArb)
  .map(([gen, shards]) => makeCase(gen.text, shards, gen));

export const corpusCaseArb: fc.Arbitrary<Case> = fc.tuple(corpusArb, shardsArb)
  .map(([text, shards]) => makeCase(text, shards, null));

export const SOURCES = [
  ['grammar-generated queries', generatedCaseArb],
  ['mutated corpus queries', corpusCaseArb],
] as const;

/** One test per source of cases: `property` must hold for each, the known counterexamples first. */
export function checkOnEverySource(property: (c: Case) => void, known: readonly Case[]): void {
  for (const [name, arb] of SOURCES) {
    it(name, () => {
      fc.assert(fc.property(arb, property), params(known));
      if (oracleGaps.count > 0) {
        console.info(`${name}: ${oracleGaps.count} queries the lezer-based oracle cannot read were judged without it, e.g. ${JSON.stringify(oracleGaps.examples)}`);
        oracleGaps.count = 0;
        oracleGaps.examples.length = 0;
      }
    }, TEST_TIMEOUT_MS);
  }
}

/** A case given by hand (a known counterexample), for `examples`. */
export const example = (text: string, shards: readonly string[] = ['a', 'b', 'c']): Case => makeCase(text, shards, null);

export const DOCUMENTED_ERRORS = [PromQLSyntaxError, UnsupportedQueryError, EvaluationError] as const;

export const isDocumented = (err: unknown): boolean => DOCUMENTED_ERRORS.some((E) => err instanceof E);

export interface Rewrite {
  readonly plan: QueryPlan;
  readonly shard: string;
  readonly query: string;
  /** The leaf this rewrite belongs to; null for the whole query's plan. */
  readonly leaf: Leaf | null;
}

export interface Outcome {
  readonly plan: QueryPlan | null;
  /** Every error thrown, with the step that threw it. */
  readonly errors: readonly { readonly step: string; readonly error: unknown }[];
  /** plan.forShard(s) for every shard of the map. */
  readonly rewrites: readonly Rewrite[];
  /** compileQuery with push-down (as served) and without. */
  readonly compiled: readonly CompiledQuery[];
  /** leaf.plan.forShard(s) for every distinct leaf query of the compilations and each of its shards. */
  readonly leafRewrites: readonly Rewrite[];
  readonly ms: number;
}

let watchdog: Watchdog | null = null;

/** Starts the hang watchdog for this test file (stopped after the file's tests). */
export function watchHangs(label: string): void {
  watchdog = new Watchdog(label, HANG_MS);
  afterAll(async () => {
    await watchdog?.stop();
    watchdog = null;
  });
}

/** Plans a query for the map, rewrites it for every shard, compiles it and rewrites every leaf. */
export function exercise(c: Case): Outcome {
  const run = () => {
    const errors: { step: string; error: unknown }[] = [];
    const rewrites: Rewrite[] = [];
    const compiled: CompiledQuery[] = [];
    const leafRewrites: Rewrite[] = [];
    const seenLeaves = new Set<string>();
    const attempt = <T>(step: string, fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (error) {
        errors.push({ step, error });
        return undefined;
      }
    };
    const plan = attempt('planQuery', () => planQuery(c.text, SHARD_LABEL, c.shards)) ?? null;
    if (plan !== null) {
      for (const shard of c.shards) {
        const r = attempt(`forShard(${JSON.stringify(shard)})`, () => plan.forShard(shard));
        if (r !== undefined) rewrites.push({ plan, shard, query: r.query, leaf: null });
      }
      // As the API layer does: the parser layer's verdict for the engine's major, then the compiler.
      const checked = attempt(`checkFor(${ENGINE_MAJOR})`, () => {
        plan.checkFor(ENGINE_MAJOR);
        return true;
      }) ?? false;
      for (const pushDown of checked ? [true, false] : []) {
        const result = attempt(`compileQuery(pushDown=${pushDown})`, () => compileQuery(plan, c.shards, { pushDown }));
        if (result === undefined) continue;
        compiled.push(result);
        for (const leaf of result.leaves) {
          for (const shard of leaf.shards) {
            // The same leaf often comes out of both compilations: rewrite it once per shard.
            const key = `${shard}\u0000${leaf.plan.text}`;
            if (seenLeaves.has(key)) continue;
            seenLeaves.add(key);
            const r = attempt(`leaf ${JSON.stringify(leaf.plan.text)}.forShard(${JSON.stringify(shard)})`, () => leaf.plan.forShard(shard));
            if (r !== undefined) leafRewrites.push({ plan: leaf.plan, shard, query: r.query, leaf });
          }
        }
      }
    }
    return { plan, errors, rewrites, compiled, leafRewrites };
  };
  if (watchdog === null) {
    const started = Date.now();
    return { ...run(), ms: Date.now() - started };
  }
  const { result, ms } = watchdog.time(c.text, run);
  return { ...result, ms };
}

/** Fails the property when a case took longer than the budget. */
export function assertWithinBudget(outcome: Outcome): void {
  if (outcome.ms > CASE_BUDGET_MS) throw new Error(`case took ${outcome.ms} ms (budget ${CASE_BUDGET_MS} ms)`);
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
  return `non-Error thrown: ${String(err)}`;
}
