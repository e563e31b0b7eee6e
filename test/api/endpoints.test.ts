// The core's Request -> Response contract in front of real Prometheus collectors: request forms
// Grafana sends, path prefixes, health, errors, and collectors that fail.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/api/log.ts';
import { CHECKED_PREFIX } from '../../lib/collectors/checked-body.ts';
import { createRouter, type Router } from '../../lib/api/router.ts';
import { parseShardMap, type ShardMap } from '../../lib/shards/schema.ts';
import { EVAL_TIME, RANGE } from '../e2e/harness/generate.ts';
import { startCluster, type Cluster } from '../e2e/harness/prometheus.ts';

/** Request log lines are asserted where they matter, not printed in every test. */
const quiet = () => undefined;

let cluster: Cluster;
let router: Router;
const peers: Server[] = [];

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b'] });
  router = routerFor({ shards: cluster.shards });
});

afterAll(async () => {
  for (const p of peers) p.close();
  await cluster?.stop();
});

function routerFor(doc: unknown, timeoutMs?: number): Router {
  const map: ShardMap = parseShardMap(doc);
  return createRouter({ shardMap: async () => map, timeoutMs, log: quiet });
}

async function call(r: Router, path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await r(new Request(`http://router.test${path}`, init));
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

function form(params: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) };
}

/** A peer that misbehaves on purpose: the collector faults a router must survive. */
async function faultyPeer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  peers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const instant = (query: string) => `query=${encodeURIComponent(query)}&time=${EVAL_TIME}`;

describe('requests as Grafana sends them', () => {
  it('serves below a path prefix such as an API Gateway stage', async () => {
    const { status, body } = await call(router, `/prod/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`);
    expect(status).toBe(200);
    expect(body.data.result.length).toBeGreaterThan(0);
    for (const s of body.data.result) expect(s.metric.cluster).toBe('a');
  });

  it('merges URL and form parameters, the form winning as in Prometheus', async () => {
    const init = form({ query: 'demo_num_cpus{cluster="b"}', time: String(EVAL_TIME) });
    const { body } = await call(router, `/api/v1/query?query=${encodeURIComponent('demo_num_cpus{cluster="a"}')}`, init);
    for (const s of body.data.result) expect(s.metric.cluster).toBe('b');
  });

  it('accepts RFC 3339 and float timestamps alike', async () => {
    const iso = new Date(EVAL_TIME * 1000).toISOString();
    const a = await call(router, `/api/v1/query?query=demo_num_cpus{cluster="a"}&time=${iso}`.replace(/[{}"]/g, encodeURIComponent));
    const b = await call(router, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}.000`);
    expect(a.body).toEqual(b.body);
    expect(a.body.data.result.length).toBeGreaterThan(0);
  });

  it('passes stats through and ignores unknown parameters', async () => {
    const { body } = await call(router, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}&stats=all&foo=bar`);
    expect(body.status).toBe('success');
    expect(body.data.stats).toBeDefined();
  });

  it('answers health and buildinfo probes', async () => {
    expect((await call(router, '/-/healthy')).status).toBe(200);
    expect((await call(router, '/stage/-/ready')).status).toBe(200);
    const info = await call(router, '/api/v1/status/buildinfo');
    expect(info.status).toBe(200);
    expect(info.body.data.version).toMatch(/^2\./);
  });

  it('refuses unknown endpoints and methods with Prometheus errors', async () => {
    expect(await call(router, '/api/v1/nope')).toMatchObject({ status: 404, body: { status: 'error', errorType: 'not_found' } });
    expect(await call(router, '/api/v1/metadata', form({}))).toMatchObject({ status: 405, body: { status: 'error' } });
    expect(await call(router, '/api/v1/series', { method: 'DELETE' })).toMatchObject({ status: 405 });
  });

  it('reports parse errors as bad_data with the position', async () => {
    const { status, body } = await call(router, `/api/v1/query?query=${encodeURIComponent('sum(rate(x[5m]')}`);
    expect(status).toBe(400);
    expect(body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:15: parse error: unclosed left parenthesis' });
  });

  it('evaluates a range selector itself, from the shards\' raw samples, where the function\'s other arguments read series', async () => {
    const query = 'quantile_over_time(scalar(sum(demo_num_cpus)) / 100, demo_num_cpus[5m])';
    const window = `start=${EVAL_TIME - 600}&end=${EVAL_TIME}&step=60`;
    for (const path of [`/api/v1/query?${instant(query)}`, `/api/v1/query_range?query=${encodeURIComponent(query)}&${window}`]) {
      const oracle = (await (await fetch(`${cluster.globalUrl}${path}`)).json()) as { data: unknown };
      const answer = await call(router, path);
      expect(answer.status, path).toBe(200);
      expect(answer.body.data, path).toEqual(oracle.data);
    }
  });

  it('refuses what it cannot evaluate exactly across shards with a clear 422', async () => {
    const query = 'max_over_time(sum(demo_num_cpus @ start())[5m:1m])';
    const { status, body } = await call(router, `/api/v1/query?${instant(query)}`);
    expect(status).toBe(422);
    expect(body.errorType).toBe('execution');
    expect(body.error).toContain('cannot evaluate @ start() or @ end() inside a subquery across shards');
    expect(body.error).toContain('"a", "b"');
  });

  it('refuses selectors all of whose matchers match "" as the global Prometheus does, shard matchers included', async () => {
    // Judged before the shard matchers are removed: on the global Prometheus `cluster` is a label
    // like any other. These used to select every series of the shards they name.
    const refused = ['{cluster!="a"}', '{cluster=~".*"}', 'sum({cluster=""})', 'up or {cluster=~".*", job=~".*"}', '{__name__=~".*", cluster!="b"}'];
    const accepted = ['count({cluster="a"})', 'count({cluster=~"a|b", job=~".*"})', 'count({__name__=~".+", cluster!="a"})'];
    const window = `start=${EVAL_TIME - 600}&end=${EVAL_TIME}&step=60`;
    for (const selector of [...refused, ...accepted]) {
      const q = encodeURIComponent(selector);
      const isSelector = !selector.includes('(') && !selector.includes(' or ');
      const paths = [
        `/api/v1/query?query=${q}&time=${EVAL_TIME}`, `/api/v1/query_range?query=${q}&${window}`,
        ...(isSelector ? ['series', 'labels', 'label/job/values', 'label/cluster/values'].map((e) => `/api/v1/${e}?match[]=${q}&match[]=demo_num_cpus`) : []),
      ];
      for (const path of paths) {
        const oracle = await fetch(`${cluster.globalUrl}${path}`);
        const oracleBody = (await oracle.json()) as { status: string };
        const answer = await call(router, path);
        expect(answer.status, path).toBe(oracle.status);
        expect(answer.status, path).toBe(refused.includes(selector) ? 400 : 200);
        if (oracleBody.status === 'error') expect(answer.body, path).toEqual(oracleBody);
      }
    }
  });

  it('judges range parameters as Prometheus does, before the query, whichever shards the query reads', async () => {
    // The single-shard path passed them on, so a collector was blamed (`shard "a": ...`); across
    // shards a step of 1e308 became Infinity. The global Prometheus is the judge.
    const steps = ['1e308', 'Inf', '1e400', '1000000y', '-1', 'NaN', '+NaN', '-nan', '', '0x10', '0x1p4', '1_0', '5.', '+5'];
    for (const query of ['demo_num_cpus{cluster="a"}', 'sum(demo_num_cpus)', 'sum(']) {
      // A query that does not parse: only the step's errors are compared (they come first).
      for (const step of query === 'sum(' ? ['1e308', '-1', ''] : steps) {
        const params = `query=${encodeURIComponent(query)}&start=${EVAL_TIME - 100}&end=${EVAL_TIME}&step=${encodeURIComponent(step)}`;
        const oracle = await fetch(`${cluster.globalUrl}/api/v1/query_range?${params}`);
        const oracleBody = (await oracle.json()) as { status: string };
        const answer = await call(router, `/api/v1/query_range?${params}`);
        const what = `${query} step=${step}`;
        expect(answer.status, what).toBe(oracle.status);
        if (oracleBody.status === 'error') expect(answer.body, what).toEqual(oracleBody);
      }
    }
    // Go divides durations as integers: 11,000.5 points per series are accepted.
    const params = `query=demo_num_cpus&start=${EVAL_TIME - 110_005}&end=${EVAL_TIME}&step=10`;
    expect((await call(router, `/api/v1/query_range?${params}`)).status).toBe((await fetch(`${cluster.globalUrl}/api/v1/query_range?${params}`)).status);
  });

  it('judges the timeout parameter as Prometheus does', async () => {
    const { status, body } = await call(router, `/api/v1/query?${instant('demo_num_cpus')}&timeout=1e308`);
    const oracle = await fetch(`${cluster.globalUrl}/api/v1/query?${instant('demo_num_cpus')}&timeout=1e308`);
    expect(status).toBe(oracle.status);
    expect(body).toEqual(await oracle.json());
  });

  it('refuses invalid label names in the label values path as Prometheus does, asking no collector', async () => {
    for (const name of ['1abc', 'a-b', 'job%C3%BC', '%20', 'a%22b']) {
      const answer = await call(router, `/api/v1/label/${name}/values`);
      const oracle = await fetch(`${cluster.globalUrl}/api/v1/label/${name}/values`);
      expect(answer.status, name).toBe(oracle.status);
      expect(answer.body, name).toEqual(await oracle.json());
    }
  });

  it('reports invalid timeouts', async () => {
    const { status, body } = await call(router, `/api/v1/query?${instant('1')}&timeout=soon`);
    expect(status).toBe(400);
    expect(body.error).toContain('"timeout"');
  });
});

describe('collectors that fail', () => {
  it('moves to the next replica when the first refuses connections', async () => {
    const r = routerFor({ shards: { a: { urls: [await closedPort(), cluster.shards.a] } } });
    const { status, body } = await call(r, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`);
    expect(status).toBe(200);
    expect(body.data.result.length).toBeGreaterThan(0);
  });

  it('moves to the next replica when the first answers 5xx with an HTML page', async () => {
    const broken = await faultyPeer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
    const r = routerFor({ shards: { a: { urls: [broken, cluster.shards.a] } } });
    expect((await call(r, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`)).status).toBe(200);
  });

  it('answers 503 unavailable naming the shard when no replica can be reached', async () => {
    const r = routerFor({ shards: { a: await closedPort() } });
    const { status, body } = await call(r, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`);
    expect(status).toBe(503);
    expect(body.errorType).toBe('unavailable');
    expect(body.error).toMatch(/^shard "a": cannot reach collector #1 \(127\.0\.0\.1:\d+\): ECONNREFUSED$/);
  });

  it('answers 503 timeout before the caller gives up on a collector that never answers', async () => {
    const silent = await faultyPeer(() => undefined);
    const r = routerFor({ shards: { a: silent } }, 400);
    const started = Date.now();
    const { status, body } = await call(r, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(status).toBe(503);
    expect(body.errorType).toBe('timeout');
    expect(body.error).toContain('shard "a"');
  });

  it("honours the request's own timeout parameter", async () => {
    const silent = await faultyPeer(() => undefined);
    const r = routerFor({ shards: { a: silent } });
    const { body } = await call(r, `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}&timeout=300ms`);
    expect(body.errorType).toBe('timeout');
  });

  it("passes a collector's own error on, naming the shard", async () => {
    const { status, body } = await call(router, `/api/v1/query?${instant('rate(demo_num_cpus{cluster="a"})')}`);
    expect(status).toBe(400);
    expect(body.errorType).toBe('bad_data');
    expect(body.error).toMatch(/^shard "a": .*expected type range vector in call to function "rate"/);
  });

  it('reports a collector answering garbage JSON on fan-out endpoints', async () => {
    const garbage = await faultyPeer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"succ'));
    const r = routerFor({ shards: { a: garbage } });
    const { status, body } = await call(r, '/api/v1/labels');
    expect(status).toBe(503);
    expect(body.error).toContain('shard "a": collector answered invalid JSON');
  });

  it('evaluates queries that touch no shard on the first healthy collector', async () => {
    const r = routerFor({ shards: { a: await closedPort(), b: cluster.shards.b } });
    const { body } = await call(r, '/api/v1/query?query=1%2B1&time=4');
    expect(body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
  });
});

describe('authentication and request logs', () => {
  const token = 's3cret-token';
  const secured = (log: Logger = quiet) => createRouter({
    shardMap: async () => parseShardMap({ shards: cluster.shards }),
    auth: { token, basic: { user: 'grafana', password: 'pa:ss' } },
    log,
  });
  const query = `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`;

  it('refuses requests without valid credentials with a 401 envelope', async () => {
    expect(await call(secured(), query)).toMatchObject({ status: 401, body: { status: 'error', errorType: 'unauthorized', error: 'authentication required' } });
    const wrong = await call(secured(), query, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid credentials' } });
    const badBasic = await call(secured(), query, { headers: { Authorization: `Basic ${Buffer.from('grafana:nope').toString('base64')}` } });
    expect(badBasic.status).toBe(401);
  });

  it('accepts the bearer token and basic auth (passwords may contain colons)', async () => {
    expect((await call(secured(), query, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const basic = `Basic ${Buffer.from('grafana:pa:ss').toString('base64')}`;
    expect((await call(secured(), query, { headers: { Authorization: basic } })).status).toBe(200);
  });

  it('leaves health checks open', async () => {
    expect((await call(secured(), '/-/healthy')).status).toBe(200);
    expect((await call(secured(), '/-/ready')).status).toBe(200);
  });

  it('logs one JSON line per request with shards, latency and bytes, never the credentials', async () => {
    const entries: Record<string, unknown>[] = [];
    const router = secured((e) => entries.push(e));
    await call(router, `/api/v1/labels`, { headers: { Authorization: `Bearer ${token}`, 'x-request-id': 'req-1' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 'info', msg: 'request', requestId: 'req-1', endpoint: 'labels', status: 200 });
    expect(Object.keys(entries[0]!.shards as object)).toEqual(['a', 'b']);
    expect(entries[0]!.bytes).toBeGreaterThan(0);
    expect(JSON.stringify(entries)).not.toContain(token);
  });

  it("counts the collector's bytes of answers streamed through, small and large, once they have gone through", async () => {
    // Every streamed query and query_range used to log "bytes":0.
    const cases = [
      { router: `/api/v1/query?${instant('demo_num_cpus{cluster="a"}')}`, direct: `/api/v1/query?${instant('demo_num_cpus')}`, streamed: false },
      // Several megabytes: streamed after its first 256 KiB.
      {
        router: `/api/v1/query_range?query=${encodeURIComponent('{__name__=~".+", cluster="a"}')}&start=${RANGE.start}&end=${RANGE.end}&step=${RANGE.step}`,
        direct: `/api/v1/query_range?query=${encodeURIComponent('{__name__=~".+"}')}&start=${RANGE.start}&end=${RANGE.end}&step=${RANGE.step}`,
        streamed: true,
      },
    ];
    for (const c of cases) {
      const entries: Record<string, unknown>[] = [];
      const router = secured((e) => entries.push(e));
      const answer = await router(new Request(`http://router.test${c.router}`, { headers: { Authorization: `Bearer ${token}` } }));
      expect(entries, 'logged once the answer has gone through').toHaveLength(0);
      await answer.arrayBuffer();
      await new Promise((resolve) => setImmediate(resolve));
      const direct = Buffer.from(await (await fetch(`${cluster.shards.a}${c.direct}`)).arrayBuffer()).byteLength;
      expect(direct > CHECKED_PREFIX).toBe(c.streamed);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ status: 200, bytes: direct, shards: { a: { bytes: direct, requests: 1 } } });
    }
  });

  it('adds CloudWatch embedded metric fields when asked', async () => {
    const entries: Record<string, unknown>[] = [];
    const router = createRouter({ shardMap: async () => parseShardMap({ shards: cluster.shards }), log: (e) => entries.push(e), metrics: 'emf' });
    await call(router, query);
    const aws = entries[0]!._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
    expect(aws.CloudWatchMetrics[0]!.Namespace).toBe('prome-route');
    expect(aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toContain('Latency');
    expect(entries[0]!.Latency).toBeTypeOf('number');
  });
});
