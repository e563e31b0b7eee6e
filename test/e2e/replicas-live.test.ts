// What a Prometheus has only from live ingestion, on shard a served by an HA pair in "merge" mode:
// exemplars (received through remote write, as from an agent), metadata (from scrapes), rules and
// alerts (evaluated every second). Each replica misses part of it: some exemplars, a scrape target,
// an alert that fires on one replica only. The global Prometheus receives and scrapes everything
// (exemplars and samples with the shard label) and evaluates the same rules: the router's answers
// through the merged shard, alone and with shard b (one collector), must be the global's.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteWriteSeries, type WrittenSeries } from '../promqltest/remote-write.ts';
import { serveOnLoopback } from '../support/loopback.ts';
import { SHARD_LABEL } from './harness/generate.ts';
import { startPrometheus, type PrometheusServer } from './harness/prometheus.ts';
import { sleep } from './harness/processes.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';

/** Nothing listens there: a replica that cannot be reached. */
const DEAD = 'http://127.0.0.1:9';
const FEATURES = ['--enable-feature=exemplar-storage', '--web.enable-remote-write-receiver'];

/** Scrape targets' exposition: the same family with two helps (t1, t3), families of one target only. */
const EXPOSITIONS: Record<string, string> = {
  t1: '# HELP ha_jobs_total Jobs run.\n# TYPE ha_jobs_total counter\nha_jobs_total 1\n# HELP ha_only_t1 Seen by replica 1 only.\n# TYPE ha_only_t1 gauge\nha_only_t1 1\n',
  t2: '# HELP ha_jobs_total Jobs run.\n# TYPE ha_jobs_total counter\nha_jobs_total 2\n# HELP ha_queue_length Items waiting.\n# TYPE ha_queue_length gauge\nha_queue_length 3\n',
  t3: '# HELP ha_jobs_total Jobs run to completion.\n# TYPE ha_jobs_total counter\nha_jobs_total 3\n# HELP ha_only_t3_seconds Seen by replica 2 only.\n# TYPE ha_only_t3_seconds summary\nha_only_t3_seconds_sum 1\nha_only_t3_seconds_count 1\n',
  tb: '# HELP ha_jobs_total Jobs run.\n# TYPE ha_jobs_total counter\nha_jobs_total 4\n# HELP ha_shard_b_info Shard b only.\n# TYPE ha_shard_b_info gauge\nha_shard_b_info 1\n',
};

/**
 * The rules every server of shard a and the global one evaluate: FlagUp fires for each instance
 * whose flag a server has (x on replica 1, y on replica 2, both on the global one), OnlyOne on
 * replica 1 only, FlagHeld is pending everywhere.
 */
const RULES = `groups:
  - name: ha
    rules:
      - alert: FlagUp
        expr: ha_flag > 0
        labels: { severity: page }
      - alert: OnlyOne
        expr: ha_only_one > 0
      - alert: FlagHeld
        expr: ha_flag > 0
        for: 1h
      - record: ha:flag:count
        expr: count(ha_flag)
`;

const servers: PrometheusServer[] = [];
const targets: { close(): Promise<void> }[] = [];
const routers: Record<string, RunningRouter> = {};
let globalUrl = '';
let runDir = '';

async function serve(name: string, scrape: string[], extra: { ruleFiles?: string[]; externalLabels?: Record<string, string> } = {}): Promise<PrometheusServer> {
  const dataDir = path.join(runDir, name, 'data');
  await mkdir(dataDir, { recursive: true });
  const server = await startPrometheus({ dataDir, workDir: path.join(runDir, name), readyQuery: null, extraArgs: FEATURES, scrapeTargets: scrape, ...extra }, name);
  servers.push(server);
  return server;
}

async function routerFor(name: string, aUrls: string[], bUrl: string): Promise<RunningRouter> {
  const file = path.join(runDir, `${name}.json`);
  await writeFile(file, JSON.stringify({ shardLabel: SHARD_LABEL, shards: { a: { urls: aUrls, replicas: 'merge' }, b: bUrl } }));
  return startRouter(file);
}

const NOW = Date.now();
/** Exemplars 10 s apart over the last minute, each with its own trace id. */
const EXEMPLAR_TIMES = [60, 50, 40, 30, 20, 10].map((s) => NOW - s * 1000);

/** prompb's labels: sorted by name, as Prometheus expects them. */
function promLabels(labels: Record<string, string>): { name: string; value: string }[] {
  return Object.keys(labels).sort().map((name) => ({ name, value: labels[name]! }));
}

/** A counter with one sample now (a series must exist for its exemplars) and the exemplars at `times`. */
function withExemplars(labels: Record<string, string>, times: readonly number[]): WrittenSeries {
  return {
    labels: promLabels(labels),
    samples: [{ timestamp: NOW, value: 7 }],
    exemplars: times.map((t) => ({ labels: [{ name: 'trace_id', value: `${labels.instance}-${t}` }], value: 0.5, timestamp: t })),
  };
}

/** One sample now, for the rules. */
const flag = (labels: Record<string, string>, name = 'ha_flag'): WrittenSeries => ({ labels: promLabels({ __name__: name, ...labels }), samples: [{ timestamp: NOW, value: 1 }] });

/** A label set's key whatever the order of its keys. */
const labelsKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Polls `ready` (each server's own view) until it holds: scrapes and rule evaluations run every second. */
async function until(what: string, ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`${what} never came`);
}

beforeAll(async () => {
  runDir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-live-'));
  const urls: Record<string, string> = {};
  for (const [name, body] of Object.entries(EXPOSITIONS)) {
    const target = await serveOnLoopback((_request, _body, response: ServerResponse) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
    targets.push(target);
    urls[name] = new URL(target.url).host;
  }
  const rules = path.join(runDir, 'rules.yml');
  await writeFile(rules, RULES);
  const [global, b, replica1, replica2] = await Promise.all([
    serve('global', [urls.t1!, urls.t2!, urls.t3!, urls.tb!], { ruleFiles: [rules] }),
    serve('shard-b', [urls.tb!]),
    // Replica 1 never reached t3, replica 2 never t1 (say, started after it was gone).
    serve('a-replica1', [urls.t1!, urls.t2!], { ruleFiles: [rules], externalLabels: { replica: '1' } }),
    serve('a-replica2', [urls.t2!, urls.t3!], { ruleFiles: [rules], externalLabels: { replica: '2' } }),
  ]);
  globalUrl = global!.url;

  // Exemplars: replica 1 lacks the middle two, replica 2 the last two; the global server has all.
  const aSeries = { __name__: 'ha_requests_total', instance: 'x', job: 'api' };
  const bSeries = { __name__: 'ha_requests_total', instance: 'z', job: 'api' };
  await Promise.all([
    remoteWriteSeries(replica1!.url, [withExemplars(aSeries, EXEMPLAR_TIMES.filter((_t, i) => i !== 2 && i !== 3)), flag({ instance: 'x' }), flag({}, 'ha_only_one')]),
    remoteWriteSeries(replica2!.url, [withExemplars(aSeries, EXEMPLAR_TIMES.slice(0, 4)), flag({ instance: 'y' })]),
    remoteWriteSeries(b!.url, [withExemplars(bSeries, EXEMPLAR_TIMES)]),
    remoteWriteSeries(global!.url, [
      withExemplars({ ...aSeries, [SHARD_LABEL]: 'a' }, EXEMPLAR_TIMES), withExemplars({ ...bSeries, [SHARD_LABEL]: 'b' }, EXEMPLAR_TIMES),
      flag({ instance: 'x', [SHARD_LABEL]: 'a' }), flag({ instance: 'y', [SHARD_LABEL]: 'a' }), flag({ [SHARD_LABEL]: 'a' }, 'ha_only_one'),
    ]),
  ]);

  // Ready when every server has scraped its targets and fired what it fires.
  const metadataOf = async (url: string) => Object.keys((await callApi(url, '/api/v1/metadata', {}, 'GET')).body.data as object);
  const firing = async (url: string) => ((await callApi(url, '/api/v1/alerts', {}, 'GET')).body.data as { alerts: { state: string }[] }).alerts.filter((a) => a.state === 'firing').length;
  await Promise.all([
    until('the global server\'s scrapes and alerts', async () => (await metadataOf(global!.url)).length === 5 && (await firing(global!.url)) === 3),
    until('shard b\'s scrapes', async () => (await metadataOf(b!.url)).length === 2),
    until('replica 1\'s scrapes and alerts', async () => (await metadataOf(replica1!.url)).length === 3 && (await firing(replica1!.url)) === 2),
    until('replica 2\'s scrapes and alerts', async () => (await metadataOf(replica2!.url)).length === 3 && (await firing(replica2!.url)) === 1),
  ]);
  [routers.merge, routers.oneDead] = await Promise.all([
    routerFor('merge', [replica1!.url, replica2!.url], b!.url),
    routerFor('one-dead', [replica1!.url, DEAD], b!.url),
  ]);
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(routers).map((r) => r.stop()));
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(targets.map((t) => t.close()));
  if (runDir !== '') await rm(runDir, { recursive: true, force: true });
});

interface SeriesExemplars { seriesLabels: Record<string, string>; exemplars: unknown[] }

/** Series in label order (Prometheus lists them in its storage's order). */
function bySeries(data: unknown): SeriesExemplars[] {
  return [...(data as SeriesExemplars[])].sort((a, b) => labelsKey(a.seriesLabels).localeCompare(labelsKey(b.seriesLabels)));
}

describe('exemplars: the union of the replicas\', as the global Prometheus holds them', () => {
  const start = String((NOW - 3_600_000) / 1000);
  const end = String((NOW + 60_000) / 1000);
  const cases: [string, Record<string, string>][] = [
    ['shard a alone', { query: 'ha_requests_total{cluster="a"}', start, end }],
    ['shard a, a window holding exemplars that one replica lacks', { query: 'ha_requests_total{cluster="a", job="api"}', start: String(EXEMPLAR_TIMES[2]! / 1000), end: String(EXEMPLAR_TIMES[4]! / 1000) }],
    ['across shards', { query: 'ha_requests_total', start, end }],
    ['across shards, by regex', { query: 'rate(ha_requests_total{cluster=~"a|b"}[5m]) + on (job) group_left ha_requests_total{cluster="b"}', start, end }],
  ];
  it.each(cases)('%s', async (_what, params) => {
    const oracle = await callApi(globalUrl, '/api/v1/query_exemplars', params, 'GET');
    const answer = await callApi(routers.merge!.url, '/api/v1/query_exemplars', params, 'GET');
    expect(oracle.body.status).toBe('success');
    expect((oracle.body.data as unknown[]).length).toBeGreaterThan(0);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings).toBeUndefined();
    expect(bySeries(answer.body.data)).toEqual(bySeries(oracle.body.data));
  });
});

/** Metadata entries of a metric in a fixed order: Prometheus lists them in its map's (random) order. */
function sortedMetadata(data: unknown): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(data as Record<string, unknown[]>).map(([metric, entries]) => [metric, entries.map((e) => JSON.stringify(e)).sort()]));
}

describe('metadata: the union of the replicas\' targets, as the global Prometheus scrapes them all', () => {
  it.each<Record<string, string>>([{}, { metric: 'ha_jobs_total' }, { metric: 'ha_only_t3_seconds' }, { limit: '2' }, { limit_per_metric: '1', metric: 'ha_queue_length' }])('%j', async (params) => {
    const oracle = await callApi(globalUrl, '/api/v1/metadata', params, 'GET');
    const answer = await callApi(routers.merge!.url, '/api/v1/metadata', params, 'GET');
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings).toBeUndefined();
    // With a limit, which metrics are kept is the order of Prometheus's map: only the count is the oracle's.
    if ('limit' in params) expect(Object.keys(answer.body.data as object).length).toBe(Object.keys(oracle.body.data as object).length);
    else expect(sortedMetadata(answer.body.data)).toEqual(sortedMetadata(oracle.body.data));
  });

  it('answers from the replica that answers, with a warning naming the one that did not', async () => {
    const answer = await callApi(routers.oneDead!.url, '/api/v1/metadata', {}, 'GET');
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings?.join('\n')).toMatch(/shard "a".*replica.*127\.0\.0\.1:9/);
    expect(Object.keys(answer.body.data as object).sort()).toEqual(['ha_jobs_total', 'ha_only_t1', 'ha_queue_length', 'ha_shard_b_info']);
  });
});

type Rules = { groups: { rules: { alerts?: Alert[]; [key: string]: unknown }[]; [key: string]: unknown }[] };
type Alert = { labels: Record<string, string>; [key: string]: unknown };

/** What differs between any two servers evaluating the same rules: when they evaluated, and since when. */
function withoutTimes<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (['lastEvaluation', 'evaluationTime', 'activeAt'].includes(key) ? undefined : v))) as T;
}

const alertOrder = (a: Alert, b: Alert) => labelsKey(a.labels).localeCompare(labelsKey(b.labels));

describe('rules and alerts: deduplicated, an alert firing where either replica fires it', () => {
  it('rules', async () => {
    const oracle = withoutTimes((await callApi(globalUrl, '/api/v1/rules', {}, 'GET')).body.data as Rules);
    const answer = await callApi(routers.merge!.url, '/api/v1/rules', {}, 'GET');
    expect(answer.httpStatus).toBe(200);
    const rules = withoutTimes(answer.body.data as Rules);
    for (const groups of [oracle.groups, rules.groups]) for (const g of groups) for (const r of g.rules) r.alerts?.sort(alertOrder);
    expect(rules).toEqual(oracle);
    // Not vacuous: both states, and an alert of each replica's.
    const flagUp = rules.groups[0]!.rules.find((r) => r.name === 'FlagUp')!;
    expect(flagUp.alerts!.map((a) => a.labels.instance)).toEqual(['x', 'y']);
    expect(rules.groups[0]!.rules.map((r) => r.state)).toEqual(['firing', 'firing', 'pending', undefined]);
  });

  it.each<Record<string, string>>([{}, { type: 'alert' }, { 'rule_name[]': 'OnlyOne' }])('rules %j', async (params) => {
    const oracle = await callApi(globalUrl, '/api/v1/rules', params, 'GET');
    const answer = await callApi(routers.merge!.url, '/api/v1/rules', params, 'GET');
    const names = (data: unknown) => (data as Rules).groups.flatMap((g) => g.rules.map((r) => `${String(r.name)} ${String(r.state)}`));
    expect(names(answer.body.data)).toEqual(names(oracle.body.data));
  });

  it('alerts', async () => {
    const oracle = (await callApi(globalUrl, '/api/v1/alerts', {}, 'GET')).body.data as { alerts: Alert[] };
    const answer = await callApi(routers.merge!.url, '/api/v1/alerts', {}, 'GET');
    expect(answer.httpStatus).toBe(200);
    const alerts = (answer.body.data as { alerts: Alert[] }).alerts;
    expect(withoutTimes(alerts).sort(alertOrder)).toEqual(withoutTimes(oracle.alerts).sort(alertOrder));
    expect(alerts.length).toBe(5);
  });

  it('alerts with a replica down: the other\'s, with a warning naming the one that did not answer', async () => {
    const answer = await callApi(routers.oneDead!.url, '/api/v1/alerts', {}, 'GET');
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.warnings?.join('\n')).toMatch(/shard "a".*replica.*127\.0\.0\.1:9/);
    expect((answer.body.data as { alerts: Alert[] }).alerts.map((a) => `${a.labels.alertname} ${a.labels.instance ?? ''}`).sort()).toEqual(['FlagHeld x', 'FlagUp x', 'OnlyOne ']);
  });
});
