// Shards that fail while a query reads several: partial answers with a warning per failed shard, or
// 503 naming them when partial answers are off; and hedged requests to replicas.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../lib/api/router.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { EVAL_TIME } from '../e2e/harness/generate.ts';
import { startCluster, type Cluster } from '../e2e/harness/prometheus.ts';

/** Request log lines are asserted where they matter, not printed in every test. */
const quiet = () => undefined;

let cluster: Cluster;
const peers: Server[] = [];
let dead: string;
let silent: string;
let garbage: string;

async function peer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  peers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b'] });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
  silent = await peer(() => undefined);
  garbage = await peer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":{"resultType":"vec'));
});

afterAll(async () => {
  for (const p of peers) p.closeAllConnections?.();
  for (const p of peers) p.close();
  await cluster?.stop();
});

function routerWith(third: unknown, timeoutMs?: number): Router {
  const map = parseShardMap({ shards: { a: cluster.shards.a, b: cluster.shards.b, c: third } });
  return createRouter({ shardMap: async () => map, timeoutMs, log: quiet });
}

async function call(r: Router, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await r(new Request(`http://router.test${path}`, { headers }));
  return { status: response.status, body: await response.json() };
}

/** The expected sum, from the two healthy collectors themselves. */
async function healthySum(query: string): Promise<number> {
  let total = 0;
  for (const url of [cluster.shards.a, cluster.shards.b]) {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${EVAL_TIME}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    total += Number(body.data.result[0]!.value[1]);
  }
  return total;
}

const sumQuery = `/api/v1/query?query=${encodeURIComponent('sum(demo_num_cpus)')}&time=${EVAL_TIME}`;

describe.each([
  ['refuses connections', () => dead, /cannot reach collector/],
  ['answers truncated JSON', () => garbage, /invalid JSON/],
])('a shard that %s', (_what, url, reason) => {
  it('leaves it out with a warning naming it', async () => {
    const { status, body } = await call(routerWith(url()), sumQuery);
    expect(status).toBe(200);
    expect(Number(body.data.result[0].value[1])).toBe(await healthySum('sum(demo_num_cpus)'));
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toMatch(/^partial response: shard "c": /);
    expect(body.warnings[0]).toMatch(reason);
  });

  it('answers 503 naming it when partial responses are off', async () => {
    const { status, body } = await call(routerWith(url()), `${sumQuery}&partial_response=false`);
    expect(status).toBe(503);
    expect(body.status).toBe('error');
    expect(body.error).toContain('partial responses are off and shards "c" did not answer');
  });

  it('answers 503 to alert evaluation (FromAlert: true)', async () => {
    const { status } = await call(routerWith(url()), sumQuery, { FromAlert: 'true' });
    expect(status).toBe(503);
  });

  it('still answers label values from the other shards', async () => {
    const { status, body } = await call(routerWith(url()), '/api/v1/label/cluster/values');
    expect(status).toBe(200);
    expect(body.data).toEqual(['a', 'b']);
    expect(body.warnings[0]).toMatch(/shard "c"/);
  });
});

describe('a shard slower than the deadline', () => {
  it('is left out with a timeout warning before the deadline passes', async () => {
    const started = Date.now();
    const { status, body } = await call(routerWith(silent, 800), sumQuery);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(status).toBe(200);
    expect(Number(body.data.result[0].value[1])).toBe(await healthySum('sum(demo_num_cpus)'));
    expect(body.warnings[0]).toMatch(/shard "c": collector #1 .* did not answer within/);
  });
});

describe('hedged replicas', () => {
  it('asks the second replica when the first is slow, and takes one answer', async () => {
    const map = parseShardMap({ shards: { a: { urls: [silent, cluster.shards.a], hedgeAfterMs: 100 } } });
    const router = createRouter({ shardMap: async () => map, timeoutMs: 5_000, log: quiet });
    const started = Date.now();
    const { status, body } = await call(router, `/api/v1/query?query=${encodeURIComponent('count(demo_num_cpus)')}&time=${EVAL_TIME}`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(status).toBe(200);
    const direct = await fetch(`${cluster.shards.a}/api/v1/query?query=count(demo_num_cpus)&time=${EVAL_TIME}`);
    expect(body.data).toEqual(((await direct.json()) as { data: unknown }).data);
  });
});
