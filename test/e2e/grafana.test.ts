// What Grafana relies on beyond the answers themselves, against real collectors and the global oracle:
//  - incremental querying (the Prometheus data source's option): on refresh Grafana asks only for the
//    tail of the range, from 10 minutes before the previous end, and merges it into the frames it has
//    by label set and timestamp; the full range and the tail must agree on every overlapping step,
//    through one shard and across shards, for every dashboard expression;
//  - the query inspector's timing: a Server-Timing header with the router's and each shard's time;
//  - `stats=all`: collectors' statistics passed through one shard, combined across shards;
//  - compression: Grafana's data source proxy accepts gzip, and Prometheus then compresses every answer.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { loadDashboardExprs } from './harness/corpus.ts';
import { EVAL_TIME } from './harness/generate.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { injectMatcher, setMatcher } from './inject.ts';
import { callApi } from './router.ts';
import { SHARDS, useSession } from './session.ts';

// Per-step statistics are a feature flag in Prometheus 2.x: `stats=all` answers them only with it.
const session = useSession(() => ({ shards: SHARDS, extraArgs: ['--enable-feature=promql-per-step-stats'] }));

// --- incremental querying -----------------------------------------------------------------------------

/** A dashboard's step, and Grafana's alignment of range queries to it (start and end multiples of it). */
const STEP = 45;
const align = (t: number) => Math.floor(t / STEP) * STEP;
/** Grafana's default overlap window for incremental querying. */
const OVERLAP_S = 10 * 60;
/** The dashboard shows the last hour; the refresh comes two minutes later. */
const FULL = { start: align(EVAL_TIME - 3600), end: align(EVAL_TIME), step: STEP };
const TAIL = { start: align(FULL.end - OVERLAP_S), end: align(EVAL_TIME + 120), step: STEP };

type Matrix = { metric: Record<string, string>; values: [number, string][] }[];

/** The answer with only the points of [from, to], and only the series with points there. */
function within(answer: ApiAnswer, from: number, to: number): ApiAnswer {
  const data = answer.body.data as { resultType: string; result: Matrix } | undefined;
  if (answer.body.status !== 'success' || data?.resultType !== 'matrix') return answer;
  const result = data.result
    .map((s) => ({ metric: s.metric, values: s.values.filter(([t]) => t >= from && t <= to) }))
    .filter((s) => s.values.length > 0);
  return { httpStatus: answer.httpStatus, body: { status: 'success', data: { resultType: 'matrix', result } } };
}

async function range(base: string, query: string, r: typeof FULL): Promise<ApiAnswer> {
  return callApi(base, '/api/v1/query_range', { query, start: String(r.start), end: String(r.end), step: String(r.step) }, 'POST');
}

/** Series with points in the overlap (0 for an error), and how the tail's differ from the full range's (null: they do not). */
async function overlapDifference(base: string, query: string): Promise<{ series: number; difference: string | null }> {
  const [full, tail] = await Promise.all([range(base, query, FULL), range(base, query, TAIL)]);
  const overlap = within(full, TAIL.start, FULL.end);
  const series = overlap.body.status === 'success' ? ((overlap.body.data as { result: unknown[] }).result?.length ?? 0) : 0;
  return { series, difference: diffAnswers(within(tail, TAIL.start, FULL.end), overlap, false) };
}

const tally = { checked: 0, series: 0, oracleInconsistent: [] as string[] };
afterAll(() => {
  console.log(`incremental querying: ${tally.checked} queries (${tally.series} series) whose tail agrees with their full range`
    + `${tally.oracleInconsistent.length > 0 ? `; not checked where the global Prometheus's own tail differs: ${tally.oracleInconsistent.join(', ')}` : ''}`);
});

/**
 * The router's tail must agree with its full range wherever the global Prometheus's does (a query with
 * `@ start()` would not: its answer depends on the range by definition).
 */
async function expectIncrementalAgrees(query: string): Promise<void> {
  const oracle = await overlapDifference(session.cluster.globalUrl, query);
  if (oracle.difference !== null) {
    tally.oracleInconsistent.push(query);
    return;
  }
  const answer = await overlapDifference(session.router.url, query);
  expect(answer.difference, query).toBeNull();
  expect(answer.series, query).toBe(oracle.series);
  tally.checked++;
  tally.series += answer.series;
}

const dashboards = loadDashboardExprs()
  .map((expr, i) => ({ expr, shard: SHARDS[i % SHARDS.length]! }))
  .filter(({ expr }) => parseLabelValues(expr) === null);

describe.concurrent('incremental querying: a tail with a 10-minute overlap agrees with the full range', () => {
  it.each(dashboards)('one cluster: $expr', async ({ expr, shard }) => {
    await expectIncrementalAgrees(injectMatcher(substituteVariables(expr, shard), 'cluster', `cluster="${shard}"`));
  });
  it.each(dashboards)('clusters a and c: $expr', async ({ expr }) => {
    await expectIncrementalAgrees(setMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster=~"(a|c)"'));
  });
});

// --- Server-Timing ------------------------------------------------------------------------------------

/** Server-Timing's syntax (W3C Server Timing): `name;dur=<ms>` metrics separated by commas. */
function parseServerTiming(header: string | null): Map<string, number> {
  expect(header).not.toBeNull();
  const out = new Map<string, number>();
  for (const metric of header!.split(', ')) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+);dur=(\d+(?:\.\d+)?)$/.exec(metric);
    expect(m, metric).not.toBeNull();
    out.set(m![1]!, Number(m![2]));
  }
  return out;
}

describe('Server-Timing', () => {
  it.each([
    ['one shard', 'sum(rate(demo_cpu_usage_seconds_total{cluster="b"}[5m]))', ['b']],
    ['across shards', 'sum by (cluster) (rate(demo_cpu_usage_seconds_total[5m]))', ['a', 'b', 'c']],
    ['a union across shards', 'demo_num_cpus{cluster=~"a|c"}', ['a', 'c']],
  ])('%s: the router and every shard asked', async (_what, query, shards) => {
    const response = await fetch(`${session.router.url}/api/v1/query?${new URLSearchParams({ query, time: String(EVAL_TIME) })}`);
    expect(response.status).toBe(200);
    const timing = parseServerTiming(response.headers.get('server-timing'));
    expect([...timing.keys()]).toEqual(['router', ...shards.map((s) => `shard-${s}`)]);
    for (const s of shards) expect(timing.get(`shard-${s}`)!).toBeLessThanOrEqual(timing.get('router')!);
    await response.body?.cancel();
  });

  it('is on errors too', async () => {
    const response = await fetch(`${session.router.url}/api/v1/query?${new URLSearchParams({ query: 'sum(', time: String(EVAL_TIME) })}`);
    expect(response.status).toBe(400);
    expect([...parseServerTiming(response.headers.get('server-timing')).keys()]).toEqual(['router']);
    await response.body?.cancel();
  });
});

// --- compression ----------------------------------------------------------------------------------------

/** One GET as Go's HTTP client sends it (Accept-Encoding: gzip, or none), read raw. */
function rawGet(base: string, path: string, acceptEncoding: string | null): Promise<{ status: number; coding: string | undefined; cache: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${base}${path}`, { headers: acceptEncoding === null ? {} : { 'accept-encoding': acceptEncoding } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode!, coding: response.headers['content-encoding'], cache: response.headers['x-cache'] as string | undefined, body: Buffer.concat(chunks),
      }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

const decoded = (answer: { status: number; coding: string | undefined; body: Buffer }): ApiAnswer => ({
  httpStatus: answer.status,
  body: JSON.parse((answer.coding === 'gzip' ? gunzipSync(answer.body) : answer.body).toString('utf8')) as ApiAnswer['body'],
});

describe('compression, as Grafana asks', () => {
  const range = { start: String(EVAL_TIME - 3600 + 7), end: String(EVAL_TIME), step: '30' };
  it.each([
    ['a range query on one shard', '/api/v1/query_range', { query: 'rate(demo_cpu_usage_seconds_total{cluster="b"}[5m])', ...range }],
    ['a range query across shards', '/api/v1/query_range', { query: 'sum by (cluster, mode) (rate(demo_cpu_usage_seconds_total[5m]))', ...range }],
    ['an instant query across shards', '/api/v1/query', { query: 'demo_num_cpus', time: String(EVAL_TIME) }],
    ['label values', '/api/v1/label/cluster/values', {}],
    ['an error', '/api/v1/query', { query: 'sum(', time: String(EVAL_TIME) }],
  ])('%s: gzipped when asked, as Prometheus does, and the same answer', async (_what, path, params) => {
    // A window of its own (no other test stores its extents), asked twice: the first time alone, so that
    // the extents it stores hold compressed points; the second answer is assembled from them.
    const url = `${path}?${new URLSearchParams(params)}`;
    for (let pass = 0; pass < 2; pass++) {
      const router = await rawGet(session.router.url, url, 'gzip');
      const [oracle, plain] = await Promise.all([rawGet(session.cluster.globalUrl, url, 'gzip'), rawGet(session.router.url, url, null)]);
      if (path === '/api/v1/query_range') expect(router.cache).toBe(pass === 0 ? 'miss' : 'hit');
      expect(oracle.coding).toBe('gzip');
      expect(router.coding).toBe('gzip');
      expect(plain.coding).toBeUndefined();
      if (path.includes('/query')) expect(diffAnswers(decoded(router), decoded(oracle), false)).toBeNull();
      else expect(decoded(router)).toEqual(decoded(oracle));
      expect(gunzipSync(router.body).equals(plain.body)).toBe(true);
    }
  });
});

// --- stats=all ------------------------------------------------------------------------------------------

interface Stats {
  timings: Record<string, number>;
  samples: { totalQueryableSamplesPerStep?: [number, number][]; totalQueryableSamples: number; peakSamples: number };
}

const TIMINGS = ['evalTotalTime', 'resultSortTime', 'queryPreparationTime', 'innerEvalTime', 'execQueueTime', 'execTotalTime'];

function statsOf(answer: ApiAnswer): Stats {
  expect(answer.body.status, JSON.stringify(answer.body)).toBe('success');
  const stats = (answer.body.data as { stats?: Stats }).stats;
  expect(stats).toBeDefined();
  expect(Object.keys(stats!.timings)).toEqual(TIMINGS);
  return stats!;
}

describe('stats=all', () => {
  const instant = { time: String(EVAL_TIME), stats: 'all' };
  const ranged = { start: String(FULL.start), end: String(FULL.end), step: String(FULL.step), stats: 'all' };

  it('one shard: the collector\'s statistics, as it sent them', async () => {
    const query = 'sum(rate(demo_cpu_usage_seconds_total{cluster="b"}[5m]))';
    const stats = statsOf(await callApi(session.router.url, '/api/v1/query_range', { query, ...ranged }, 'GET'));
    const collector = statsOf(await callApi(session.cluster.shards.b!, '/api/v1/query_range', { query: 'sum(rate(demo_cpu_usage_seconds_total[5m]))', ...ranged }, 'GET'));
    expect(stats.samples).toEqual(collector.samples);
  });

  // Samples read from storage do not depend on how the data is split over servers: the global
  // Prometheus reads as many as the shards together, step by step.
  it.each([
    'demo_num_cpus{cluster=~"a|c"}',
    'sum by (instance) (rate(demo_cpu_usage_seconds_total[5m]))',
    'sum(demo_memory_usage_bytes) / count(demo_memory_usage_bytes)',
  ])('across shards: samples read as the global Prometheus reads them, %s', async (query) => {
    for (const [path, params] of [['/api/v1/query', instant], ['/api/v1/query_range', ranged]] as const) {
      const stats = statsOf(await callApi(session.router.url, path, { query, ...params }, 'POST'));
      const oracle = statsOf(await callApi(session.cluster.globalUrl, path, { query, ...params }, 'POST'));
      expect(stats.samples.totalQueryableSamples, `${path} ${query}`).toBe(oracle.samples.totalQueryableSamples);
      expect(stats.samples.totalQueryableSamplesPerStep, `${path} ${query}`).toEqual(oracle.samples.totalQueryableSamplesPerStep);
      expect(stats.samples.peakSamples).toBeGreaterThan(0);
      for (const name of TIMINGS) expect(stats.timings[name]).toBeGreaterThanOrEqual(0);
    }
  });

  it('without stats, no statistics (as Prometheus)', async () => {
    const answer = await callApi(session.router.url, '/api/v1/query', { query: 'sum(demo_num_cpus)', time: String(EVAL_TIME) }, 'POST');
    expect(answer.body.status).toBe('success');
    expect(answer.body.data).not.toHaveProperty('stats');
  });
});
