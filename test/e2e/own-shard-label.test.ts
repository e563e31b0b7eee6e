// Collectors whose series carry the shard label themselves (federation, relabelling,
// kube-state-metrics with a cluster label), end to end against a global Prometheus that holds the data
// as the rule says it appears (README, "Series that carry the shard label"): `cluster` the shard,
// the collector's own value as `original_cluster`.
//   shard a: no series with a cluster label;
//   shard b: federates two clusters, every series with cluster="east" or cluster="west" (the same
//            targets in both: only that label tells them apart on the collector);
//   shard c: one target's series with cluster="c" (the shard's own name), the others without.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareLabelSets, sortedLabels } from '../../lib/labelsets.ts';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { DEMO_INSTANCES, demoSeries } from './harness/demo-metrics.ts';
import { openMetricsChunks, RANGE, RANGE_UNALIGNED, SHARD_LABEL, type DatasetStats } from './harness/generate.ts';
import { prepareBlocks } from './harness/prometheus.ts';
import type { Series } from './harness/series.ts';
import { callApi } from './router.ts';
import { expectSameAsOracle, useSession, type Judge } from './session.ts';

const SHARDS = ['a', 'b', 'c'];
const SEED = 7;

/** Each shard's series as its collector stores them, some with a `cluster` label of their own. */
function collectorSeries(shard: string): Series[] {
  const own = (series: Series[], value: (s: Series) => string | null) => series.map((s) => {
    const v = value(s);
    return v === null ? s : { ...s, labels: { ...s.labels, [SHARD_LABEL]: v } };
  });
  if (shard === 'b') return ['east', 'west'].flatMap((cluster) => own(demoSeries(cluster, SEED), () => cluster));
  if (shard === 'c') return own(demoSeries('c', SEED), (s) => (s.labels.instance === DEMO_INSTANCES[0] ? 'c' : null));
  return demoSeries(shard, SEED);
}

/** The rule, as the oracle holds the data: the shard as `cluster`, a collector's own value as `original_cluster`. */
function asGlobal(s: Series): Series {
  const { [SHARD_LABEL]: own, ...labels } = s.labels;
  return { ...s, labels: { ...labels, ...(own === undefined ? {} : { [`original_${SHARD_LABEL}`]: own }) } };
}

async function prepare() {
  const stats: Record<string, DatasetStats> = {};
  const text = (name: string, groups: [Record<string, string>, Series[]][]) => {
    stats[name] = { series: 0, samples: 0 };
    return [...openMetricsChunks(groups, stats[name])].join('');
  };
  const texts: Record<string, string> = Object.fromEntries(SHARDS.map((s) => [s, text(s, [[{}, collectorSeries(s)]])]));
  texts.global = text('global', SHARDS.map((s) => [{ [SHARD_LABEL]: s }, collectorSeries(s).map(asGlobal)]));
  const key = createHash('sha256').update(JSON.stringify(texts)).digest('hex').slice(0, 16);
  return prepareBlocks(`own-shard-label-${key}`, SHARDS, async (dir) => {
    await mkdir(dir, { recursive: true });
    const file = (name: string) => path.join(dir, `${name}.om`);
    await Promise.all(Object.entries(texts).map(([name, t]) => writeFile(file(name), t)));
    return { shardFiles: Object.fromEntries(SHARDS.map((s) => [s, file(s)])), globalFile: file('global'), stats };
  });
}

const session = useSession(async () => ({ shards: SHARDS, data: await prepare() }));

/** The oracle must answer (a query it refuses would make the comparison empty), then the router alike. */
const answered: Judge = (answer, oracle, ordered, what) => {
  expect(oracle.body.status, `oracle: ${what}: ${oracle.body.error}`).toBe('success');
  expect(diffAnswers(answer, oracle, ordered), what).toBeNull();
};

describe.concurrent('queries: the shard label is the shard, the collector\'s own is original_cluster', () => {
  it.each([
    // Selectors: one shard (streamed), several (union), matchers on either label.
    'demo_num_cpus',
    'demo_num_cpus{cluster="b"}',
    'demo_num_cpus{cluster="c"}',
    'demo_num_cpus{cluster=~"b|c"}',
    'demo_num_cpus{original_cluster="east"}',
    'demo_num_cpus{cluster="b", original_cluster="west"}',
    'demo_num_cpus{original_cluster=""}',
    'demo_num_cpus{original_cluster=~"c|west"}',
    'demo_num_cpus{cluster="b", original_cluster!="east"} or demo_num_cpus{cluster="a"}',
    // Grouping and matching on either label, through one shard and across shards.
    'sum by (cluster) (demo_num_cpus)',
    'sum by (cluster) (demo_num_cpus{cluster="b"})',
    'sum by (original_cluster) (demo_num_cpus)',
    'sum by (original_cluster) (demo_num_cpus{cluster="b"})',
    'sum by (cluster, original_cluster) (rate(demo_cpu_usage_seconds_total[5m]))',
    'sum without (instance) (demo_num_cpus{cluster="b"})',
    'sum without (original_cluster) (demo_num_cpus{cluster=~"b|c"})',
    'max by (original_cluster) (demo_num_cpus{cluster=~"a|b"})',
    'count by (original_cluster) (demo_num_cpus{cluster="c"})',
    'topk(3, demo_num_cpus{cluster="b"})',
    'count_values("original_cluster", demo_num_cpus{cluster="b"})',
    'demo_num_cpus{cluster="b"} / on(instance, original_cluster) demo_memory_usage_bytes{cluster="b", type="used"}',
    'demo_num_cpus / on(cluster, instance, original_cluster) demo_memory_usage_bytes{type="used"}',
    'demo_num_cpus{cluster="b"} / on(cluster) group_left sum by (cluster) (demo_num_cpus{cluster="b"})',
    'demo_num_cpus{cluster="b"} * ignoring(original_cluster) group_left sum by (instance, job, cluster) (demo_num_cpus{cluster="b"})',
    // Label functions reading and writing either label.
    'label_replace(demo_num_cpus{cluster="b"}, "from", "$1", "original_cluster", "(.*)")',
    'label_replace(demo_num_cpus{cluster=~"a|c"}, "original_cluster", "$1", "cluster", "(.*)")',
    'label_replace(demo_num_cpus{cluster="c"}, "cluster", "$1", "original_cluster", "(.+)")',
    'label_join(demo_num_cpus{cluster=~"b|c"}, "both", "/", "cluster", "original_cluster")',
    'absent(demo_num_cpus{original_cluster="nowhere"})',
    'absent(demo_num_cpus{cluster="b", original_cluster="nowhere"})',
  ])('%s', async (query) => {
    await expectSameAsOracle(session, query, RANGE, answered);
    await expectSameAsOracle(session, query, RANGE_UNALIGNED, answered);
  });
});

describe('the other endpoints apply the rule too', () => {
  const window = { start: String(RANGE.start), end: String(RANGE.end) };
  const data = (a: ApiAnswer) => {
    expect(a.body.status, a.body.error).toBe('success');
    return a.body.data;
  };
  const both = async (apiPath: string, params: Record<string, string | string[]>) => ({
    answer: data(await callApi(session.router.url, apiPath, params, 'GET')),
    oracle: data(await callApi(session.cluster.globalUrl, apiPath, params, 'GET')),
  });

  it.each([
    ['demo_num_cpus{cluster=~"b|c"}'],
    ['demo_num_cpus{original_cluster="east"}'],
    [['demo_num_cpus{cluster="c"}', 'demo_memory_usage_bytes{original_cluster="west", type="used"}']],
  ])('series %s', async (match) => {
    const { answer, oracle } = await both('/api/v1/series', { 'match[]': match, ...window });
    const sorted = (list: unknown) => (list as Record<string, string>[]).map(sortedLabels).sort(compareLabelSets);
    expect(sorted(answer)).toEqual(sorted(oracle));
    expect((answer as unknown[]).length).toBeGreaterThan(0);
  });

  it.each([
    ['/api/v1/labels', {}],
    ['/api/v1/labels', { 'match[]': 'demo_num_cpus{cluster="b"}' }],
    ['/api/v1/labels', { 'match[]': 'demo_num_cpus{cluster="a"}' }],
    ['/api/v1/label/cluster/values', {}],
    ['/api/v1/label/original_cluster/values', {}],
    ['/api/v1/label/original_cluster/values', { 'match[]': 'demo_num_cpus{cluster=~"a|c"}' }],
    ['/api/v1/label/instance/values', { 'match[]': 'demo_num_cpus{original_cluster="c"}' }],
  ] as const)('%s %j', async (apiPath, params) => {
    const { answer, oracle } = await both(apiPath, { ...params, ...window });
    expect(answer).toEqual(oracle);
  });
});
