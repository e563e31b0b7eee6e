// Single-shard queries through the router against the global oracle: every compliance query and
// every dashboard expression with one cluster named in each selector must answer exactly as one
// Prometheus holding all clusters' data does, for instant and range queries, GET and POST.
import { describe, expect, it } from 'vitest';
import { diffAnswers } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { RANGE, RANGE_UNALIGNED } from './harness/generate.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { injectMatcher } from './inject.ts';
import { callApi } from './router.ts';
import { expectSameAsOracle as expectOracle, rangeParams, SHARDS, useSession } from './session.ts';

const session = useSession();
const expectSameAsOracle = (query: string) => expectOracle(session, query);

const compliance = loadComplianceQueries();

describe.concurrent('compliance queries, one cluster in every selector', () => {
  it.each(compliance.map((q, i) => ({ ...q, shard: SHARDS[i % SHARDS.length]! })))(
    '#$index $query',
    async ({ query, shard }) => {
      await expectSameAsOracle(injectMatcher(query, 'cluster', `cluster="${shard}"`));
    },
  );
});

const dashboards = loadDashboardExprs()
  .map((expr, i) => ({ expr, shard: SHARDS[i % SHARDS.length]! }))
  .filter(({ expr }) => parseLabelValues(expr) === null);

describe.concurrent('dashboard expressions, one cluster', () => {
  it.each(dashboards)('$expr', async ({ expr, shard }) => {
    const query = substituteVariables(expr, shard);
    await expectSameAsOracle(injectMatcher(query, 'cluster', `cluster="${shard}"`));
  });
});

describe('queries that name no shard, or a shard that does not exist', () => {
  it.each([
    '1+1', 'vector(1)', 'time()', 'absent(up{cluster="nope"})', 'count(demo_num_cpus{cluster="nope"}) or vector(0)',
    'demo_num_cpus{cluster=""}', 'absent(demo_num_cpus{cluster="a", cluster="b"})', 'scalar(demo_num_cpus{cluster="nope"})',
  ])('%s', async (query) => {
    await expectSameAsOracle(query);
  });

  it("answers Grafana's data source test (query=1+1&time=4)", async () => {
    const answer = await callApi(session.router.url, '/api/v1/query', { query: '1+1', time: '4' }, 'GET');
    expect(answer.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
  });
});

describe('queries no Prometheus accepts, routed to one shard', () => {
  it.each([
    'demo_num_cpus{cluster="a"}[5m] + vector(1)',
    'demo_num_cpus{cluster="b"}[5m] or on() vector(1)',
    'count_values("x", demo_num_cpus{cluster="c"}[5m])',
  ])('%s', async (query) => {
    await expectSameAsOracle(query);
  });
});

describe('label provenance edge cases', () => {
  it.each([
    'label_replace(demo_num_cpus{cluster="b"}, "cluster", "x$1", "instance", ".*:(.*)")',
    'label_join(demo_num_cpus{cluster="b"}, "joined", "/", "cluster", "instance")',
    'demo_num_cpus{cluster="a"} or vector(1)',
    'sum by (cluster) (demo_num_cpus{cluster="c"}) + on(cluster) group_left count by (cluster) (demo_num_cpus{cluster="c"})',
    'demo_num_cpus{cluster="a"} * on(instance) group_left(cluster) demo_num_cpus{cluster="a"}',
    'count_values("cluster", demo_num_cpus{cluster="b"})',
    'count_values by (cluster) ("value", demo_num_cpus{cluster="b"})',
    'absent_over_time(nonexistent{cluster="b", job="x"}[5m])',
    // Prometheus derives absent()'s labels from the selector inside the parentheses.
    'absent((nonexistent{cluster="b", job="x"}))',
    'sum without (instance) (rate(demo_cpu_usage_seconds_total{cluster="c"}[5m]))',
    'topk(2, demo_memory_usage_bytes{cluster="a"})',
    'max_over_time(sum by (cluster, mode) (rate(demo_cpu_usage_seconds_total{cluster="b"}[5m]))[30m:1m])',
    '{cluster="a", __name__=~"demo_num_.*"}',
    'demo_num_cpus{cluster="a"} and on(cluster) vector(1)',
    'sort_desc(demo_memory_usage_bytes{cluster="c"})',
  ])('%s', async (query) => {
    await expectSameAsOracle(query);
  });

  it('keeps range queries on an unaligned step grid', async () => {
    const query = 'rate(demo_cpu_usage_seconds_total{cluster="a", mode="user"}[5m])';
    const oracle = await callApi(session.cluster.globalUrl, '/api/v1/query_range', { query, ...rangeParams(RANGE_UNALIGNED) }, 'POST');
    const answer = await callApi(session.router.url, '/api/v1/query_range', { query, ...rangeParams(RANGE_UNALIGNED) }, 'GET');
    expect(diffAnswers(answer, oracle, false)).toBeNull();
  });
});

describe('metadata endpoints', () => {
  const window = { start: String(RANGE.start), end: String(RANGE.end) };

  it.each([
    ['/api/v1/labels', {}],
    ['/api/v1/labels', { 'match[]': 'demo_num_cpus{cluster="b"}' }],
    ['/api/v1/labels', { 'match[]': ['up', 'demo_num_cpus'] }],
    ['/api/v1/label/cluster/values', {}],
    ['/api/v1/label/cluster/values', { 'match[]': 'node_uname_info{job="node"}' }],
    ['/api/v1/label/cluster/values', { 'match[]': 'demo_num_cpus{cluster=~"a|c"}' }],
    ['/api/v1/label/cluster/values', { 'match[]': 'demo_num_cpus{cluster="nope"}' }],
    ['/api/v1/label/instance/values', { 'match[]': 'demo_num_cpus{cluster="b"}' }],
    ['/api/v1/label/instance/values', {}],
    ['/api/v1/label/__name__/values', {}],
    ['/api/v1/series', { 'match[]': 'demo_num_cpus' }],
    ['/api/v1/series', { 'match[]': ['demo_num_cpus{cluster="a"}', 'node_load1{cluster=~"b|c"}'] }],
    ['/api/v1/series', { 'match[]': '{cluster="c", __name__=~"demo_.*"}' }],
    ['/api/v1/series', { 'match[]': 'demo_num_cpus{' }],
    ['/api/v1/series', {}],
    ['/api/v1/query_exemplars', { query: 'demo_api_request_duration_seconds_bucket{cluster="a"}' }],
    ['/api/v1/query_exemplars', { query: 'sum(rate(demo_api_request_duration_seconds_bucket[5m]))' }],
    ['/api/v1/metadata', {}],
    ['/api/v1/rules', {}],
    ['/api/v1/alerts', {}],
  ] as [string, Record<string, string | string[]>][])('%s %j', async (apiPath, params) => {
    const full = { ...window, ...params };
    const oracle = await callApi(session.cluster.globalUrl, apiPath, full, 'GET');
    for (const method of ['GET', 'POST'] as const) {
      if (method === 'POST' && /label\/|metadata|rules|alerts/.test(apiPath)) continue; // GET only in Prometheus
      const answer = await callApi(session.router.url, apiPath, full, method);
      expect(answer.body.status, JSON.stringify(answer.body)).toBe(oracle.body.status);
      if (oracle.body.status === 'success') expect(answer.body.data).toEqual(oracle.body.data);
      else expect(answer.body.errorType).toBe(oracle.body.errorType);
    }
  });

  it("answers the dashboards' label_values() variables like the oracle", async () => {
    for (const expr of loadDashboardExprs()) {
      const lv = parseLabelValues(expr);
      if (lv === null) continue;
      const params: Record<string, string> = { ...window };
      if (lv.selector !== null) params['match[]'] = substituteVariables(lv.selector, 'a');
      const apiPath = `/api/v1/label/${lv.label}/values`;
      const oracle = await callApi(session.cluster.globalUrl, apiPath, params, 'GET');
      const answer = await callApi(session.router.url, apiPath, params, 'GET');
      expect(answer.body, expr).toEqual(oracle.body);
      expect(oracle.body.status).toBe('success');
    }
  });
});
