// The results cache end to end (issue 14): the shared corpora through routers with a cache (in memory,
// and a real Redis), each query three times: cold, warm (every extent stored: the same bytes again),
// and with the window moved by 24 steps (part stored, part computed). Every answer is judged against
// the global Prometheus; the header says where the answer came from.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { EVAL_TIME } from './harness/generate.ts';
import { startCluster, writeShardMap, type Cluster } from './harness/prometheus.ts';
import { startRedis, type RedisServer } from './harness/redis.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { injectMatcher, setMatcher } from './inject.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';

/** 15 s steps: extents of 60 steps (15 min), so that moving the window 6 min reaches an extent not yet stored. */
const STEP = 15;
const COLD = { start: EVAL_TIME - 15 * 60, end: EVAL_TIME, step: STEP };
const MOVED = { ...COLD, start: COLD.start + 24 * STEP, end: COLD.end + 24 * STEP };

let cluster: Cluster;
let redis: RedisServer;
const routers: Record<'memory' | 'redis', RunningRouter> = {} as never;
const tally = { hit: 0, partial: 0, miss: 0, uncached: 0, refused: 0 };
/** Queries already asked of each router: the corpora repeat some (`time()` has no shard to set). */
const asked = { memory: new Set<string>(), redis: new Set<string>() };

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startCluster({ shards: ['a', 'b', 'c'] }), startRedis()]);
  const mapFile = path.join(cluster.dataDir, 'shards.json');
  await writeShardMap(mapFile, cluster.shards);
  [routers.memory, routers.redis] = await Promise.all([startRouter(mapFile, undefined, { args: ['--cache', 'memory'] }), startRouter(mapFile, undefined, {
    // A generous time limit: this shared machine runs the whole corpus at once, and the test is about
    // what the cache answers, not how fast (the fault tests below are about that).
    args: ['--cache', redis.url, '--cache-timeout', '5000'],
  })]);
});

afterAll(async () => {
  console.log(`cache: ${JSON.stringify(tally)} (answers per X-Cache value; uncached: errors and queries the cache leaves whole)`);
  await Promise.all([routers.memory?.stop(), routers.redis?.stop()]);
  await Promise.all([cluster?.stop(), redis?.stop()]);
});

interface RawAnswer extends ApiAnswer {
  readonly text: string;
  readonly xCache: string | null;
}

async function rangeQuery(base: string, query: string, range: typeof COLD): Promise<RawAnswer> {
  const body = new URLSearchParams({ query, start: String(range.start), end: String(range.end), step: String(range.step) });
  const response = await fetch(`${base}/api/v1/query_range`, { method: 'POST', body });
  const text = await response.text();
  return { httpStatus: response.status, body: JSON.parse(text) as ApiAnswer['body'], text, xCache: response.headers.get('x-cache') };
}

/** Judged as the cross-shard tests judge: the oracle's answer, or an honest 422 for what the router cannot evaluate. */
function judge(answer: RawAnswer, oracle: ApiAnswer, what: string): boolean {
  if (answer.httpStatus === 422 && /cannot evaluate|not supported/.test(answer.body.error ?? '') && oracle.body.status === 'success') {
    tally.refused++;
    return false;
  }
  expect(diffAnswers(answer, oracle, false), what).toBeNull();
  return answer.body.status === 'success';
}

/** The passes of one query text one after the other: the corpora repeat some, in tests that run at once. */
const queue = new Map<string, Promise<void>>();

function threePasses(query: string): Promise<void> {
  const next = (queue.get(query) ?? Promise.resolve()).then(() => passes(query));
  queue.set(query, next.catch(() => {}));
  return next;
}

async function passes(query: string): Promise<void> {
  const [coldOracle, movedOracle] = await Promise.all([
    callApi(cluster.globalUrl, '/api/v1/query_range', { query, ...strings(COLD) }, 'POST'),
    callApi(cluster.globalUrl, '/api/v1/query_range', { query, ...strings(MOVED) }, 'POST'),
  ]);
  for (const [name, router] of Object.entries(routers) as ['memory' | 'redis', RunningRouter][]) {
    const first = !asked[name].has(query);
    asked[name].add(query);
    const cold = await rangeQuery(router.url, query, COLD);
    if (!judge(cold, coldOracle, `${name} cold ${query}`)) continue;
    const warm = await rangeQuery(router.url, query, COLD);
    judge(warm, coldOracle, `${name} warm ${query}`);
    const moved = await rangeQuery(router.url, query, MOVED);
    judge(moved, movedOracle, `${name} moved ${query}`);
    if (cold.xCache === null) {
      // Left whole by the cache (`@ end()`...): neither pass says otherwise.
      expect([warm.xCache, moved.xCache], `${name} ${query}`).toEqual([null, null]);
      tally.uncached += 3;
      continue;
    }
    if (first) expect(cold.xCache, `${name} cold ${query}`).toBe('miss');
    expect(warm.xCache, `${name} warm ${query}`).toBe('hit');
    expect(warm.text, `${name} warm ${query}: the stored answer, byte for byte`).toBe(cold.text);
    if (first) expect(moved.xCache, `${name} moved ${query}`).toBe('partial');
    tally.miss++;
    tally.hit++;
    tally.partial++;
  }
}

function strings(range: typeof COLD): Record<string, string> {
  return { start: String(range.start), end: String(range.end), step: String(range.step) };
}

const compliance = loadComplianceQueries();
const dashboards = loadDashboardExprs().filter((expr) => parseLabelValues(expr) === null);

describe.concurrent('compliance queries over all shards, cold, warm and moved', () => {
  it.each(compliance)('#$index $query', async ({ query }) => threePasses(query));
});

describe.concurrent('compliance queries on one shard, cold, warm and moved', () => {
  it.each(compliance.map((q, i) => ({ ...q, shard: ['a', 'b', 'c'][i % 3]! })))('#$index $query', async ({ query, shard }) => {
    await threePasses(injectMatcher(query, 'cluster', `cluster="${shard}"`));
  });
});

describe.concurrent('dashboard expressions, one cluster and a multi-value $cluster, cold, warm and moved', () => {
  it.each(dashboards)('%s', async (expr) => {
    const one = substituteVariables(expr, 'b');
    await threePasses(injectMatcher(one, 'cluster', 'cluster="b"'));
    await threePasses(setMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster=~"(a|c)"'));
  });
});

describe('queries the cache leaves whole', () => {
  it.each([
    'sum(demo_num_cpus @ end())',
    'demo_num_cpus{cluster="a"} @ start()',
    'max_over_time(sum(demo_num_cpus)[10m:1m] @ end())',
  ])('%s', async (query) => {
    for (const router of Object.values(routers)) {
      const answer = await rangeQuery(router.url, query, COLD);
      expect(answer.body.status).toBe('success');
      expect(answer.xCache).toBeNull();
    }
    await threePasses(query);
  });
});
