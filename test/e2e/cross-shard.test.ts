// Queries across shards through the router against the global oracle: the compliance corpus with no
// shard matcher (all shards) and with two shards selected, and the dashboards with a multi-value
// $cluster, instant and range, GET and POST. A query the router cannot answer exactly must be refused
// with a 422 saying so; every other answer must be the global Prometheus's.
import { afterAll, describe, expect, it } from 'vitest';
import { diffAnswers } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { RANGE, RANGE_UNALIGNED } from './harness/generate.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { setMatcher } from './inject.ts';
import { expectSameAsOracle as expectOracle, useSession, type Judge, type TimeRange } from './session.ts';

const session = useSession();
const tally = { matched: 0, refused: 0 };
const refusals: string[] = [];

afterAll(() => {
  console.log(`cross-shard: ${tally.matched} answers identical to the oracle, ${tally.refused} refused with 422`);
  if (refusals.length > 0) console.log(`refused:\n  ${[...new Set(refusals)].join('\n  ')}`);
});

/** The router's answer agrees with the oracle's, or is an honest refusal of an unsupported query. */
const judge: Judge = (answer, oracle, ordered, what) => {
  if (answer.httpStatus === 422 && /cannot evaluate|not supported/.test(answer.body.error ?? '') && oracle.body.status === 'success') {
    tally.refused++;
    refusals.push(`${what}: ${answer.body.error}`);
    return;
  }
  expect(diffAnswers(answer, oracle, ordered), what).toBeNull();
  tally.matched++;
};

const expectSameAsOracle = (query: string, range: TimeRange = RANGE) => expectOracle(session, query, range, judge);

const compliance = loadComplianceQueries();

describe.concurrent('compliance queries over all shards (no shard matcher)', () => {
  it.each(compliance)('#$index $query', async ({ query }) => {
    await expectSameAsOracle(query);
  });
});

describe.concurrent('compliance queries over two shards (cluster=~"a|b" in every selector)', () => {
  it.each(compliance)('#$index $query', async ({ query }) => {
    await expectSameAsOracle(setMatcher(query, 'cluster', 'cluster=~"a|b"'));
  });
});

const dashboards = loadDashboardExprs().filter((expr) => parseLabelValues(expr) === null);

describe.concurrent('dashboard expressions with a multi-value $cluster (a and c)', () => {
  it.each(dashboards)('%s', async (expr) => {
    await expectSameAsOracle(setMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster=~"(a|c)"'));
  });
});

describe.concurrent('constructs across shards', () => {
  it.each([
    'sum(demo_num_cpus{cluster="a"}) + sum(demo_num_cpus{cluster="b"})',
    'demo_num_cpus{cluster="a"} / ignoring(cluster) demo_num_cpus{cluster="b"}',
    'sum by (cluster) (rate(demo_cpu_usage_seconds_total[5m]))',
    'topk(3, demo_memory_usage_bytes)',
    'bottomk by (type) (2, demo_memory_usage_bytes)',
    'avg by (type) (demo_memory_usage_bytes)',
    'stddev(demo_memory_usage_bytes)',
    'stdvar by (instance) (demo_memory_usage_bytes)',
    'quantile(0.9, demo_memory_usage_bytes)',
    'count_values("cpus", demo_num_cpus)',
    'histogram_quantile(0.9, sum by (le) (rate(demo_api_request_duration_seconds_bucket[5m])))',
    'histogram_quantile(0.9, rate(demo_api_request_duration_seconds_bucket[5m]))',
    'max_over_time(sum(rate(demo_cpu_usage_seconds_total[5m]))[30m:1m])',
    'rate(sum(demo_cpu_usage_seconds_total)[10m:])',
    'sum(demo_num_cpus) offset 5m',
    'max_over_time(sum(demo_num_cpus)[10m:1m] offset 5m)',
    'max_over_time(sum(demo_num_cpus)[10m:1m] @ 1767231000)',
    'absent(nonexistent)',
    'absent(demo_num_cpus)',
    'absent_over_time(nonexistent{job="x"}[5m])',
    'scalar(sum(demo_num_cpus))',
    'sort_desc(sum by (instance) (demo_num_cpus))',
    'demo_num_cpus > on() group_left scalar(avg(demo_num_cpus))',
    'label_replace(demo_num_cpus, "cluster", "", "", "")',
    'label_replace(sum by (instance) (demo_num_cpus), "x", "$1", "instance", "(.*):.*")',
    'demo_num_cpus or vector(0)',
    'count(demo_num_cpus) or vector(0)',
    'sum(demo_num_cpus) / count(demo_num_cpus)',
    'demo_num_cpus unless on(instance) demo_num_cpus{cluster="a"}',
    // and/unless whose right side only sends its match signatures (pushDownLabelSetsOnly).
    'demo_memory_usage_bytes and on(instance) demo_num_cpus{cluster=~"a|b"}',
    'sum by (instance) (demo_memory_usage_bytes) unless ignoring(cluster, job) demo_num_cpus',
    'rate(demo_cpu_usage_seconds_total[5m]) and on(instance, mode) rate(demo_cpu_usage_seconds_total{cluster="b"}[5m]) > 0.01',
    'sum by (type) (demo_memory_usage_bytes) and on() demo_num_cpus > 3',
    '-sum(demo_num_cpus)',
    'timestamp(sum(demo_num_cpus))',
    'vector(time()) - on() group_right sum(demo_num_cpus)',
  ])('%s', async (query) => {
    await expectSameAsOracle(query);
    await expectSameAsOracle(query, RANGE_UNALIGNED);
  });
});
