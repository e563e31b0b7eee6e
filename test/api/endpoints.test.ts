// The core's Request -> Response contract in front of real Prometheus collectors: request forms
// Grafana sends, path prefixes, health, errors, and collectors that fail.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/api/log.ts';
import { createRouter, type Router } from '../../lib/api/router.ts';
import { parseShardMap, type ShardMap } from '../../lib/shards/schema.ts';
import { EVAL_TIME } from '../e2e/harness/generate.ts';
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

  it('refuses what it cannot evaluate exactly across shards with a clear 422', async () => {
    const query = 'quantile_over_time(scalar(sum(demo_num_cpus)), demo_num_cpus[5m])';
    const { status, body } = await call(router, `/api/v1/query?${instant(query)}`);
    expect(status).toBe(422);
    expect(body.errorType).toBe('execution');
    expect(body.error).toContain('cannot evaluate "demo_num_cpus[5m]" across shards');
    expect(body.error).toContain('"a", "b"');
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
