// Self-test of the end-to-end harness: the generated data, once backfilled into real Prometheus
// servers, has the shape the router tests rely on. No expected values are hand-written: the checks are
// structural (labels present/absent, counts adding up, queries returning data).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasData, queryInstant, queryRange } from './harness/client.ts';
import type { PromResponse, VectorSample } from './harness/client.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { unmatchedSelectors } from './harness/dashboard-metrics.ts';
import { DEFAULT_SHARDS, EVAL_TIME, RANGE, RANGE_UNALIGNED, SHARD_LABEL, shardSeries } from './harness/generate.ts';
import { startCluster, writeShardMap } from './harness/prometheus.ts';
import type { Cluster } from './harness/prometheus.ts';
import { dashboardExprToPromQL, substituteVariables } from './harness/variables.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Runs `fn` over `items` with at most `limit` in flight (the servers share 2 cores). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

function vector(r: PromResponse): VectorSample[] {
  expect(r.status, r.error).toBe('success');
  return r.data!.result as VectorSample[];
}

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster();
  console.log(`harness: prepare ${cluster.timings.prepareMs} ms (generated: ${cluster.timings.generated}), start ${cluster.timings.startMs} ms`);
  console.log('harness: samples', JSON.stringify(cluster.stats));
});

afterAll(async () => {
  await cluster?.stop();
});

describe('variables', () => {
  it('substitutes every Grafana variable form', () => {
    expect(substituteVariables('rate(x{cluster=~"$cluster",job="${job}",instance="[[node]]",n="$nodename"}[$__rate_interval])', 'b'))
      .toBe('rate(x{cluster=~"b",job="node",instance="node-1:9100",n="node-1"}[1m])');
    expect(substituteVariables('x{instance="$instance", y="$unknown"}', 'a')).toBe('x{instance="node-1:9100", y="$unknown"}');
    expect(dashboardExprToPromQL('label_values(node_uname_info{job="node"}, nodename)')).toBe('count by (nodename) (node_uname_info{job="node"})');
  });
});

describe('generated data', () => {
  it('is deterministic and has no shard label in shard data', () => {
    const a1 = shardSeries('a');
    const a2 = shardSeries('a');
    expect(a2).toEqual(a1);
    for (const s of a1) expect(s.labels).not.toHaveProperty(SHARD_LABEL);
  });

  it('matches every selector of the dashboard corpus in every shard', () => {
    for (const shard of DEFAULT_SHARDS) {
      expect(unmatchedSelectors(shardSeries(shard), shard)).toEqual([]);
    }
  });
});

describe('prometheus harness', () => {
  it('serves shard data without the shard label and global data with it', async () => {
    for (const [shard, url] of Object.entries(cluster.shards)) {
      const series = vector(await queryInstant(url, 'demo_memory_usage_bytes', EVAL_TIME));
      expect(series.length).toBeGreaterThan(0);
      for (const s of series) expect(s.metric).not.toHaveProperty(SHARD_LABEL);
      const global = vector(await queryInstant(cluster.globalUrl, `demo_memory_usage_bytes{${SHARD_LABEL}="${shard}"}`, EVAL_TIME));
      expect(global.length).toBe(series.length);
    }
    const global = vector(await queryInstant(cluster.globalUrl, 'demo_memory_usage_bytes', EVAL_TIME));
    expect(new Set(global.map((s) => s.metric[SHARD_LABEL]))).toEqual(new Set(DEFAULT_SHARDS));
  });

  it('global count equals the sum of the shard counts', async () => {
    const count = async (url: string) => Number(vector(await queryInstant(url, 'count(demo_memory_usage_bytes)', EVAL_TIME))[0]!.value[1]);
    const perShard = await Promise.all(Object.values(cluster.shards).map(count));
    expect(await count(cluster.globalUrl)).toBe(perShard.reduce((a, b) => a + b, 0));
  });

  it('shard data equals the global data of that shard, label aside', async () => {
    const query = 'sum by (__name__) ({__name__=~".+"})';
    for (const [shard, url] of Object.entries(cluster.shards)) {
      const local = vector(await queryInstant(url, query, EVAL_TIME));
      const global = vector(await queryInstant(cluster.globalUrl, query.replace('"})', `", ${SHARD_LABEL}="${shard}"})`), EVAL_TIME));
      expect(global).toEqual(local);
    }
  });

  it('answers range queries over both windows', async () => {
    for (const range of [RANGE, RANGE_UNALIGNED]) {
      const r = await queryRange(cluster.globalUrl, 'rate(demo_cpu_usage_seconds_total[1m])', range);
      expect(hasData(r)).toBe(true);
    }
  });

  it('writes a shard map', async () => {
    const file = path.join(cluster.dataDir, 'shards.json');
    await writeShardMap(file, cluster.shards);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ shardLabel: SHARD_LABEL, shards: cluster.shards });
  });

  it('dashboard expressions return data on the global server', async () => {
    const exprs = loadDashboardExprs();
    const results = await mapLimit(exprs, 4, async (expr) => {
      const query = dashboardExprToPromQL(substituteVariables(expr, DEFAULT_SHARDS[0]));
      return { expr, query, res: await queryInstant(cluster.globalUrl, query, EVAL_TIME) };
    });
    const empty = results.filter((r) => !hasData(r.res));
    console.log(`dashboards: ${exprs.length - empty.length}/${exprs.length} return data at EVAL_TIME`);
    for (const r of empty) console.log(`  empty: ${r.query}${r.res.error ? `  [${r.res.error}]` : ''}`);
    expect((exprs.length - empty.length) / exprs.length).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('compliance queries return data on the global server over RANGE', async () => {
    const queries = loadComplianceQueries();
    const results = await mapLimit(queries, 4, async (q) => ({ q, res: await queryRange(cluster.globalUrl, q.query, RANGE) }));
    // should_fail queries must fail here too. Other errors can only be many-to-many matching errors:
    // the same instance names exist in every cluster, so `on(instance, job, type)` without `cluster`
    // is ambiguous in the global view (as it would be in a real global Prometheus). The router must
    // reproduce those errors, which makes them useful test cases rather than harness bugs.
    const notFailing = results.filter((r) => r.q.shouldFail && r.res.status !== 'error');
    const unexpectedErrors = results.filter((r) => !r.q.shouldFail && r.res.status === 'error');
    const manyToMany = unexpectedErrors.filter((r) => /many-to-many matching not allowed/.test(r.res.error ?? ''));
    const nonEmpty = results.filter((r) => hasData(r.res));
    console.log(`compliance: ${nonEmpty.length}/${queries.length} return data over RANGE`);
    for (const r of results.filter((x) => !hasData(x.res))) {
      const error = r.res.error ? `  [${r.res.error.replace(/found duplicate series.*;/, '')}]` : '';
      console.log(`  empty${r.q.shouldFail ? ' (should_fail)' : ''}: ${r.q.query}${error}`);
    }
    console.log(`compliance: ${manyToMany.length} fail with many-to-many matching errors on the global data`);
    expect(notFailing.map((r) => r.q.query)).toEqual([]);
    expect(unexpectedErrors.filter((r) => !manyToMany.includes(r)).map((r) => `${r.q.query}: ${r.res.error}`)).toEqual([]);
    expect(nonEmpty.length / queries.length).toBeGreaterThanOrEqual(0.85);
  }, 120_000);
});
