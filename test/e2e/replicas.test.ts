// Shard a served by an HA pair in "merge" mode: two replicas built from the same generated data, each
// missing a different half hour (together they hold everything). Every answer involving shard a must
// be the global Prometheus's, which holds all of a's data: the compliance queries and dashboards with
// a's label, and across shards; series, labels and label values. The replicas carry a replica label
// among their external labels, as HA pairs do. A replica that cannot be reached
// leaves the answer to the other with a warning naming it; with none left, the shard has failed.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { EVAL_TIME, RANGE, SHARD_LABEL } from './harness/generate.ts';
import { prepareData, startCluster, type Cluster } from './harness/prometheus.ts';
import { AnswerBytes } from '../../lib/collectors/answer-bytes.ts';
import { mergedQuery } from '../../lib/replicas/merged-query.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { HOLES, prepareReplicaBlocks, serveBlocks } from './harness/replicas.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { injectMatcher } from './inject.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';
import { expectSameAsOracle, rangeParams, SHARDS, type Judge, type Session } from './session.ts';
import { writeFile } from 'node:fs/promises';
import type { PrometheusServer } from './harness/prometheus.ts';

/** Nothing listens there: a replica that cannot be reached. */
const DEAD = 'http://127.0.0.1:9';

const session = {} as Session & { replicas: PrometheusServer[] };
const routers: Record<string, RunningRouter> = {};
const tally = { matched: 0, refused: 0 };
const refusals = new Set<string>();

async function routerFor(cluster: Cluster, name: string, aUrls: string[]): Promise<RunningRouter> {
  const file = path.join(cluster.dataDir, `${name}.json`);
  const shards = { ...cluster.shards, a: { urls: aUrls, replicas: 'merge' } };
  await writeFile(file, JSON.stringify({ shardLabel: SHARD_LABEL, shards }));
  return startRouter(file);
}

beforeAll(async () => {
  const cluster = await startCluster({ shards: SHARDS });
  const blocks = await prepareReplicaBlocks(HOLES.version, 'a', HOLES.build);
  // As HA pairs are configured: a replica label among the external labels, which remote read adds to
  // every series and the query API does not show.
  const replicas = await Promise.all(['replica1', 'replica2'].map((name) => serveBlocks(blocks[name]!, cluster.dataDir, `a-${name}`, { externalLabels: { replica: name } })));
  Object.assign(session, { cluster, replicas });
  const urls = replicas.map((r) => r.url);
  [routers.merge, routers.oneDead, routers.allDead] = await Promise.all([
    routerFor(cluster, 'merge', urls),
    routerFor(cluster, 'one-dead', [urls[0]!, DEAD]),
    routerFor(cluster, 'all-dead', [DEAD, `${DEAD}0`]),
  ]);
  Object.assign(session, { router: routers.merge });
}, 300_000);

afterAll(async () => {
  console.log(`replicas: ${tally.matched} answers identical to the oracle, ${tally.refused} refused with 422`);
  if (refusals.size > 0) console.log(`refused:\n  ${[...refusals].join('\n  ')}`);
  await Promise.all(Object.values(routers).map((r) => r.stop()));
  await Promise.all((session.replicas ?? []).map((r) => r.stop()));
  await session.cluster?.stop();
});

/** The oracle's answer, or an honest refusal (422) of a query the router cannot evaluate itself. */
const judge: Judge = (answer, oracle, ordered, what) => {
  if (answer.httpStatus === 422 && /cannot evaluate|not supported/.test(answer.body.error ?? '') && oracle.body.status === 'success') {
    tally.refused++;
    refusals.add(`${what}: ${answer.body.error}`);
    return;
  }
  expect(diffAnswers(answer, oracle, ordered), what).toBeNull();
  tally.matched++;
};

const compliance = loadComplianceQueries();

describe.concurrent('compliance queries on shard a (merged replicas)', () => {
  it.each(compliance)('#$index $query', async ({ query }) => {
    await expectSameAsOracle(session, injectMatcher(query, 'cluster', 'cluster="a"'), RANGE, judge);
  });
});

describe.concurrent('compliance queries across shards (a merged, b and c not)', () => {
  it.each(compliance)('#$index $query', async ({ query }) => {
    await expectSameAsOracle(session, query, RANGE, judge);
  });
});

const dashboards = loadDashboardExprs().filter((expr) => parseLabelValues(expr) === null);

describe.concurrent('dashboard expressions with $cluster = a', () => {
  it.each(dashboards)('%s', async (expr) => {
    await expectSameAsOracle(session, injectMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster="a"'), RANGE, judge);
  });
});

/** The holes of each replica lie in these ranges: metadata over them must still list everything. */
const HOLE_RANGES = [HOLES.replica1, HOLES.replica2].map(([from, to]) => ({ start: String(from / 1000 + 60), end: String(to / 1000 - 60) }));

describe('series, label names and label values are the union of the replicas', () => {
  const calls: [string, Record<string, string | string[]>][] = HOLE_RANGES.flatMap((range) => [
    ['/api/v1/series', { 'match[]': '{cluster="a", __name__=~"demo_.*"}', ...range }],
    ['/api/v1/series', { 'match[]': ['up', 'demo_num_cpus'], ...range }],
    ['/api/v1/labels', { 'match[]': '{cluster="a"}', ...range }],
    ['/api/v1/label/__name__/values', { 'match[]': '{cluster="a"}', ...range }],
    ['/api/v1/label/instance/values', range],
    ['/api/v1/label/cluster/values', range],
  ] as [string, Record<string, string | string[]>][]);
  it.each(calls)('%s %j', async (apiPath, params) => {
    const oracle = await callApi(session.cluster.globalUrl, apiPath, params, 'GET');
    const answer = await callApi(routers.merge!.url, apiPath, params, 'GET');
    expect(answer.body.status).toBe('success');
    expect(answer.body.data).toEqual(oracle.body.data);
  });
});

/**
 * `lookback_delta`: the replicas and the oracle run Prometheus 2.42, which ignores the parameter (it is
 * read from 2.43.0 on), invalid values included: the router's merged leaves must ignore it as the
 * replicas would, on instant selectors just before, inside and after each replica's hole, single-shard
 * and across shards, and on the dashboards' expressions.
 */
describe.concurrent('lookback_delta as the replicas\' Prometheus reads it', () => {
  const LOOKBACKS = ['1m', '30s', '10m', '0', 'abc'];
  const edges = [HOLES.replica1, HOLES.replica2].flatMap(([from, to]) => [from, to].flatMap((t) => [t - 90_000, t + 30_000, t + 150_000]));
  const instant = ['demo_num_cpus{cluster="a"}', 'timestamp(demo_num_cpus{cluster="a"})', 'count by (cluster) (up)', 'sum by (cluster, instance) (demo_num_cpus)'];
  const cases = LOOKBACKS.flatMap((lookback) => instant.map((query) => [lookback, query] as const));
  it.each(cases)('lookback_delta=%s: %s near the holes', async (lookback, query) => {
    for (const t of edges) {
      const params = { query, time: String(t / 1000), lookback_delta: lookback };
      const oracle = await callApi(session.cluster.globalUrl, '/api/v1/query', params, 'GET');
      judge(await callApi(routers.merge!.url, '/api/v1/query', params, 'GET'), oracle, false, `${query} at ${t / 1000} with lookback_delta=${lookback}`);
    }
  });
  const subset = dashboards.filter((_expr, i) => i % 10 === 0);
  it.each(LOOKBACKS.slice(0, 3).flatMap((lookback) => subset.map((expr) => [lookback, expr] as const)))('lookback_delta=%s: %s', async (lookback, expr) => {
    const params = { query: injectMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster="a"'), ...rangeParams(RANGE), lookback_delta: lookback };
    const oracle = await callApi(session.cluster.globalUrl, '/api/v1/query_range', params, 'GET');
    judge(await callApi(routers.merge!.url, '/api/v1/query_range', params, 'GET'), oracle, false, `${params.query} with lookback_delta=${lookback}`);
  });
});

/**
 * `lookback_delta` as Prometheus 2.43 and later read it, which no Prometheus here runs: merged leaves
 * evaluated with a lookback delta of 1m and 30s (what the router does for such replicas) against the
 * global data served with `--query.lookback-delta` set to the same (Prometheus's own lookback), on
 * instant selectors at the holes' edges and over a range crossing them.
 */
describe('merged leaves with another lookback delta, against Prometheus with that lookback', () => {
  const oracles: Record<string, PrometheusServer> = {};
  const LOOKBACKS = { '1m': 60_000, '30s': 30_000 };
  beforeAll(async () => {
    const { globalBlocks } = await prepareData(SHARDS);
    await Promise.all(Object.keys(LOOKBACKS).map(async (lookback) => {
      oracles[lookback] = await serveBlocks(globalBlocks, session.cluster.dataDir, `global-lookback-${lookback}`, { extraArgs: [`--query.lookback-delta=${lookback}`] });
    }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(Object.values(oracles).map((o) => o.stop()));
  });

  const edges = [HOLES.replica1, HOLES.replica2].flatMap(([from, to]) => [from, to].flatMap((t) => [t - 90_000, t + 20_000, t + 45_000, t + 150_000]));
  const cases = Object.keys(LOOKBACKS).flatMap((lookback) => ['demo_num_cpus', 'timestamp(demo_num_cpus)', 'demo_cpu_usage_seconds_total'].map((leaf) => [lookback, leaf] as const));
  it.each(cases)('lookback %s: %s', async (lookback, leaf) => {
    const shard = parseShardMap({ shardLabel: SHARD_LABEL, shards: { a: { urls: session.replicas.map((r) => r.url), replicas: 'merge' } } }).shards.get('a')!;
    const rules = { major: 2 as const, lookbackMs: LOOKBACKS[lookback as keyof typeof LOOKBACKS] };
    const io = { deadline: Date.now() + 60_000, budget: new AnswerBytes(512 * 2 ** 20), visited: () => {} };
    const query = injectMatcher(leaf, 'cluster', 'cluster="a"');
    const grids = [...edges.map((t) => ({ start: t, end: t, step: 0 })), { start: HOLES.replica1[1] - 600_000, end: HOLES.replica2[0] + 600_000, step: 15_000 }];
    for (const grid of grids) {
      const instant = grid.step === 0;
      const params: Record<string, string> = instant ? { query, time: String(grid.start / 1000) } : { query, start: String(grid.start / 1000), end: String(grid.end / 1000), step: String(grid.step / 1000) };
      const oracle = await callApi(oracles[lookback]!.url, instant ? '/api/v1/query' : '/api/v1/query_range', params, 'GET');
      const merged = JSON.parse((await mergedQuery(shard, SHARD_LABEL, leaf, grid, rules, io)).json().body.toString()) as ApiAnswer['body'];
      const expected = { ...oracle, body: { status: oracle.body.status, data: withoutLabel(oracle.body.data, SHARD_LABEL) } };
      expect(diffAnswers({ httpStatus: 200, body: { status: merged.status, data: merged.data } }, expected, false), `${leaf} on ${JSON.stringify(grid)}`).toBeNull();
    }
  });
});

/** A query answer's `data` without `label` on its series. */
function withoutLabel(data: unknown, label: string): unknown {
  const { resultType, result } = data as { resultType: string; result: { metric: Record<string, string> }[] };
  return { resultType, result: result.map((s) => ({ ...s, metric: Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== label)) })) };
}

describe('remote read', () => {
  it('gets STREAMED_XOR_CHUNKS from the 2.42 replicas: the request log counts their answers by response type', async () => {
    const query = 'rate(demo_cpu_usage_seconds_total{cluster="a"}[5m])';
    const answer = await callApi(routers.merge!.url, '/api/v1/query_range', { query, ...rangeParams(RANGE) }, 'GET');
    expect(answer.httpStatus).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the log is written in batches
    const reads = routers.merge!.logs.flatMap((line) => line.split('\n')).filter((l) => l.includes('"msg":"request"'))
      .map((l) => (JSON.parse(l) as { shards: Record<string, { remoteReads?: Record<string, number> }> }).shards.a?.remoteReads)
      .filter((r) => r !== undefined);
    // This request's line is the last: both replicas answered with chunks. No request got SAMPLES.
    expect(reads.at(-1)).toEqual({ chunks: 2 });
    expect(reads.filter((r) => r.samples !== undefined)).toEqual([]);
  });
});

describe('failing replicas', () => {
  const query = 'sum by (instance) (rate(demo_cpu_usage_seconds_total{cluster="a"}[5m]))';
  const ask = (router: RunningRouter): Promise<ApiAnswer> => callApi(router.url, '/api/v1/query_range', { query, ...rangeParams(RANGE) }, 'GET');

  it('answers from the replica that answers, with a warning naming the one that did not', async () => {
    const answer = await ask(routers.oneDead!);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings?.join('\n')).toMatch(/shard "a".*#1 \(127\.0\.0\.1:9\)|#2 \(127\.0\.0\.1:9\)/);
    for (const w of answer.body.warnings ?? []) expect(w).toMatch(/replica/);
  });

  it('labels: the same', async () => {
    const answer = await callApi(routers.oneDead!.url, '/api/v1/labels', { 'match[]': '{cluster="a"}' }, 'GET');
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings?.join('\n')).toMatch(/127\.0\.0\.1:9/);
  });

  it('fails the shard when no replica answers, as today', async () => {
    const answer = await ask(routers.allDead!);
    expect(answer.httpStatus).toBe(503);
    expect(answer.body.errorType).toBe('unavailable');
    expect(answer.body.error).toMatch(/shard.*"a"/);
  });

  it('still answers exactly for the other shards with partial responses', async () => {
    const oracle = await callApi(session.cluster.globalUrl, '/api/v1/query', { query: 'sum(demo_num_cpus{cluster="b"})', time: String(EVAL_TIME) }, 'GET');
    const answer = await callApi(routers.allDead!.url, '/api/v1/query', { query: 'sum(demo_num_cpus{cluster="b"})', time: String(EVAL_TIME) }, 'GET');
    expect(diffAnswers(answer, oracle, false)).toBeNull();
  });
});
