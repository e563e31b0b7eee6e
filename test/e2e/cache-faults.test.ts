// The results cache may cost time, never an answer (issue 14): a Redis that refuses connections, hangs,
// answers garbage or loses entries while requests run leaves every answer the global Prometheus's, in
// time (the router's deadline here is 10 s; a cache call is given up after 200 ms), with a log line.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { EVAL_TIME } from './harness/generate.ts';
import { freePort, sleep } from './harness/processes.ts';
import { startCluster, writeShardMap, type Cluster } from './harness/prometheus.ts';
import { startRedis, type RedisServer } from './harness/redis.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';

const STEP = 15;
const WINDOWS = [0, 24, 80].map((steps) => ({ start: EVAL_TIME - 15 * 60 + steps * STEP, end: EVAL_TIME + steps * STEP, step: STEP }));
const QUERIES = [
  'demo_num_cpus{cluster="a"}',
  'rate(demo_cpu_usage_seconds_total{cluster="b", mode="user"}[5m])',
  'sum by (cluster) (rate(demo_cpu_usage_seconds_total[5m]))',
  'demo_memory_usage_bytes',
  'max_over_time(sum(rate(demo_cpu_usage_seconds_total[5m]))[30m:1m])',
];

let cluster: Cluster;
let mapFile: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b', 'c'] });
  mapFile = path.join(cluster.dataDir, 'shards.json');
  await writeShardMap(mapFile, cluster.shards);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await cluster?.stop();
});

async function redisServer(): Promise<RedisServer> {
  const redis = await startRedis();
  stops.push(() => redis.stop());
  return redis;
}

/**
 * A router with its results cache at `cacheUrl`. `cacheTimeoutMs`: longer than the default 200 ms
 * where the test is about what the cache holds, not about a slow cache: on a loaded machine (CI, the
 * whole suite at once) one slow call puts the cache in its 5 s cool-down, and then nothing is stored.
 */
async function router(cacheUrl: string, cacheTimeoutMs?: number): Promise<RunningRouter> {
  const timeout = cacheTimeoutMs === undefined ? [] : ['--cache-timeout', String(cacheTimeoutMs)];
  const r = await startRouter(mapFile, undefined, { args: ['--cache', cacheUrl, '--timeout', '10', ...timeout] });
  stops.push(() => r.stop());
  return r;
}

interface Checked { readonly xCache: string | null }

/** Every query over every window: the oracle's answer, a success, whatever the cache did. */
async function expectOracleAnswers(r: RunningRouter): Promise<Checked[]> {
  const out: Checked[] = [];
  for (const window of WINDOWS) {
    for (const query of QUERIES) {
      const params = { query, start: String(window.start), end: String(window.end), step: String(window.step) };
      const oracle = await callApi(cluster.globalUrl, '/api/v1/query_range', params, 'POST');
      const response = await fetch(`${r.url}/api/v1/query_range`, { method: 'POST', body: new URLSearchParams(params) });
      const answer: ApiAnswer = { httpStatus: response.status, body: JSON.parse(await response.text()) as ApiAnswer['body'] };
      expect(answer.httpStatus, `${query} ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(200);
      expect(diffAnswers(answer, oracle, false), query).toBeNull();
      out.push({ xCache: response.headers.get('x-cache') });
    }
  }
  return out;
}

/** The request log lines' cache fields, once the batched log has been written. */
async function cacheFields(r: RunningRouter): Promise<{ errors: number; outcome: string }[]> {
  await sleep(200);
  return r.logs.flatMap((line) => line.split('\n')).filter((l) => l.includes('"msg":"request"'))
    .map((l) => (JSON.parse(l) as { cache?: { errors: number; outcome: string } }).cache).filter((c) => c !== undefined);
}

const logged = (r: RunningRouter, text: string) => r.logs.some((line) => line.includes(text));

describe.sequential('a results cache that fails', () => {
  it('refuses connections: every answer computed, one log line, errors counted', async () => {
    const r = await router(`redis://127.0.0.1:${await freePort()}/0`);
    const answers = await expectOracleAnswers(r);
    expect(answers.every((a) => a.xCache === 'miss')).toBe(true);
    await sleep(200);
    expect(logged(r, 'results cache unavailable')).toBe(true);
    expect((await cacheFields(r)).some((c) => c.errors > 0)).toBe(true);
  });

  it('hangs (DEBUG SLEEP): answers computed after the cache call is given up', async () => {
    const redis = await redisServer();
    const r = await router(redis.url);
    await expectOracleAnswers(r); // stored while the server answers
    const asleep = redis.command('DEBUG', 'SLEEP', '8');
    await sleep(100);
    const answers = await expectOracleAnswers(r);
    expect(answers.some((a) => a.xCache === 'miss')).toBe(true);
    expect(logged(r, 'results cache read failed')).toBe(true);
    await asleep;
  });

  it('answers garbage: unreadable entries are misses, never part of an answer', async () => {
    const redis = await redisServer();
    const r = await router(redis.url, 5_000);
    await expectOracleAnswers(r);
    const keys = await redis.command('KEYS', 'prome-route:*') as string[];
    expect(keys.length).toBeGreaterThan(0);
    // Garbage, an entry cut short, and another extent's intact entry under the wrong key.
    const intact = await redis.command('GET', keys[0]!) as string;
    for (const [i, key] of keys.entries()) {
      const value = i % 3 === 0 ? 'garbage' : i % 3 === 1 ? intact.slice(0, intact.length - 5) : intact;
      if (key !== keys[0]) await redis.command('SET', key, value);
    }
    await expectOracleAnswers(r);
    expect(logged(r, 'results cache entries unreadable')).toBe(true);
    expect((await cacheFields(r)).some((c) => c.errors > 0)).toBe(true);
  });

  it('loses entries while requests run (FLUSHALL in a loop, and an LRU bound that evicts)', async () => {
    const redis = await redisServer();
    const r = await router(redis.url);
    let flushing = true;
    const flusher = (async () => {
      while (flushing) {
        await redis.command('FLUSHALL');
        await sleep(3);
      }
    })();
    await expectOracleAnswers(r);
    await expectOracleAnswers(r);
    flushing = false;
    await flusher;
    await redis.command('CONFIG', 'SET', 'maxmemory', String(2 * 1024 * 1024));
    await expectOracleAnswers(r);
    await expectOracleAnswers(r);
  });
});
