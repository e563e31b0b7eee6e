// The router's own work on a query before any byte goes to a collector, over the shared corpora
// (539 compliance-tester queries, 353 dashboard expressions with Grafana's variables substituted):
//
//   single shard   planQuery (parse, selectors, shard matchers) + forShard (label analysis, rewrite)
//   cross-shard    planQuery + compileQuery (leaves, push-down, the router's part)
//
// Each query's time is the median over BATCHES batches of BATCH runs, after the whole corpus has
// been run WARMUP times (JIT); the tables give the distribution of those per-query times.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileQuery, ENGINE_MAJOR } from '../lib/engine/compile.ts';
import { planQuery, type QueryPlan } from '../lib/promql/plan.ts';
import { CORPUS_DIR, DASHBOARD_EXPRS_FILE } from '../test/e2e/harness/corpus.ts';
import { substituteVariables } from '../test/e2e/harness/variables.ts';
import { Markdown, median, quantile, type BenchContext } from './support.ts';

const COMPLIANCE_FILE = path.join(CORPUS_DIR, 'promql-compliance/expanded-queries.txt');
const LABEL = 'cluster';
const SHARDS = ['a', 'b', 'c'] as const;
const WARMUP = 20;
const BATCH = 20;
const BATCHES = 5;
const TARGET_US = 50;

interface Case {
  readonly query: string;
  /** The shard map's names: the query must take the path being measured. */
  readonly shards: readonly string[];
}

interface Corpus {
  readonly name: string;
  readonly single: readonly Case[];
  readonly cross: readonly Case[];
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
const mentionsShardLabel = (q: string) => new RegExp(`\\b${LABEL}\\s*(=~|!~|!=|=)`).test(q);

/**
 * Single shard: dashboard expressions look at `$cluster` = a in the three-shard map. Queries with no
 * shard matcher (the compliance corpus, node-exporter dashboards) are planned against a one-shard map,
 * as a deployment with one collector would, so that they too take the single-shard path.
 * Cross-shard: the three-shard map; `cluster="$cluster"` becomes `cluster=~"a|b"`, queries with no
 * shard matcher read all three shards as they are.
 */
function corpora(): Corpus[] {
  const compliance = lines(COMPLIANCE_FILE);
  const dashboards = lines(DASHBOARD_EXPRS_FILE);
  const single = (q: string): Case => ({ query: q, shards: mentionsShardLabel(q) ? SHARDS : ['a'] });
  const cross = (q: string): Case => ({ query: q, shards: SHARDS });
  const twoShards = (e: string) => e.replace(/\bcluster\s*=~?\s*"\$(?:cluster|\{cluster\})"/g, 'cluster=~"a|b"');
  return [
    { name: 'promql-compliance', single: compliance.map(single), cross: compliance.map(cross) },
    {
      name: 'dashboards',
      single: dashboards.map((e) => single(substituteVariables(e, 'a'))),
      cross: dashboards.map((e) => cross(substituteVariables(twoShards(e), 'a'))),
    },
  ];
}

type Work = (c: Case) => unknown;

const planOnly: Work = (c) => planQuery(c.query, LABEL, c.shards);
const singleShard: Work = (c) => {
  const plan = planQuery(c.query, LABEL, c.shards);
  if (plan.shards.length > 1) throw new Error(`not single-shard: ${c.query}`);
  return plan.forShard(plan.shards[0] ?? c.shards[0]!);
};
const crossShard: Work = (c) => {
  const plan: QueryPlan = planQuery(c.query, LABEL, c.shards);
  plan.checkFor(ENGINE_MAJOR);
  return compileQuery(plan, c.shards);
};

/** The cases `work` accepts (parse errors and refusals are left out and counted). */
function accepted(cases: readonly Case[], work: Work): { ok: Case[]; rejected: number } {
  const ok: Case[] = [];
  for (const c of cases) {
    try {
      work(c);
      ok.push(c);
    } catch {
      // a syntax error (the compliance corpus has queries Prometheus refuses) or a refusal (422)
    }
  }
  return { ok, rejected: cases.length - ok.length };
}

/** µs per query for each case. */
function perQueryMicros(cases: readonly Case[], work: Work): number[] {
  for (let i = 0; i < WARMUP; i++) for (const c of cases) work(c);
  return cases.map((c) => {
    const batches: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const t0 = performance.now();
      for (let i = 0; i < BATCH; i++) work(c);
      batches.push(((performance.now() - t0) * 1000) / BATCH);
    }
    return median(batches);
  });
}

export async function analysis(_ctx: BenchContext): Promise<string> {
  const md = new Markdown();
  md.text(
    'analysis: µs per query, single-threaded in the bench process (each query: median of '
      + `${BATCHES} batches of ${BATCH} runs after ${WARMUP} warm-up passes over the corpus). Parse errors and refused queries are left out (counted).`,
  );
  const rows: (string | number)[][] = [];
  const medians: { what: string; us: number }[] = [];
  const all: Record<string, number[]> = { plan: [], single: [], cross: [] };
  for (const corpus of corpora()) {
    for (const [what, label, cases, work] of [
      ['plan', 'planQuery', corpus.single, planOnly],
      ['single', 'planQuery + forShard (single shard)', corpus.single, singleShard],
      ['cross', 'planQuery + compileQuery (cross-shard)', corpus.cross, crossShard],
    ] as const) {
      const { ok, rejected } = accepted(cases, work);
      const us = perQueryMicros(ok, work);
      all[what]!.push(...us);
      rows.push([corpus.name, label, ok.length, rejected, median(us).toFixed(1), quantile(us, 0.9).toFixed(1), quantile(us, 0.99).toFixed(1), Math.max(...us).toFixed(0)]);
    }
  }
  for (const [what, label] of [['plan', 'planQuery'], ['single', 'planQuery + forShard (single shard)'], ['cross', 'planQuery + compileQuery (cross-shard)']] as const) {
    const us = all[what]!;
    rows.push(['**both**', label, us.length, '', `**${median(us).toFixed(1)}**`, quantile(us, 0.9).toFixed(1), quantile(us, 0.99).toFixed(1), Math.max(...us).toFixed(0)]);
    if (what !== 'plan') medians.push({ what: label, us: median(us) });
  }
  md.table(['corpus', 'work', 'queries', 'left out', 'median (µs)', 'p90 (µs)', 'p99 (µs)', 'max (µs)'], rows);
  md.text(`target: median under ${TARGET_US} µs: ${medians.map((m) => `${m.what} ${m.us.toFixed(1)} µs (${m.us < TARGET_US ? 'met' : 'missed'})`).join('; ')}.`);
  return md.toString();
}
