// Collectors and shard map sources that misbehave, behind the router's core: each fault gets the
// documented answer (an error naming the shard, or a partial answer with a warning) within the
// deadline, nothing is left unhandled, and the router keeps serving.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../../lib/api/router.ts';
import { sortedLabels } from '../../lib/labelsets.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { EVAL_TIME } from '../e2e/harness/generate.ts';
import { startCluster, type Cluster } from '../e2e/harness/prometheus.ts';

let cluster: Cluster;
const peers: Server[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  cluster = await startCluster({ shards: ['a', 'b'] });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  for (const p of peers) p.closeAllConnections();
  for (const p of peers) p.close();
  await cluster?.stop();
  expect(unhandled).toEqual([]);
});

async function peer(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  peers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function routerWith(faulty: string, timeoutMs = 2_000): Router {
  const map = parseShardMap({ shards: { a: cluster.shards.a, b: cluster.shards.b, f: faulty } });
  return createRouter({ shardMap: async () => map, timeoutMs, log: () => undefined });
}

async function ask(router: Router, query: string): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  const response = await router(new Request(`http://router.test/api/v1/query?query=${encodeURIComponent(query)}&time=${EVAL_TIME}`));
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    text = `<stream failed: ${(err as Error).message}>`;
  }
  return { status: response.status, text, ms: Date.now() - started };
}

const half = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { job: 'x' }, value: [1, '1'] }] } }).slice(0, 40);

const json200 = (body: unknown): RequestListener => (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const FAULTS: [string, RequestListener, RegExp][] = [
  ['answers an HTML page with 200', (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'), /answered text\/html, not JSON/],
  ['answers truncated JSON', (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(half), /invalid JSON/],
  ['closes the connection mid-body', (_q, r) => { r.writeHead(200, { 'content-type': 'application/json' }); r.write(half); setTimeout(() => r.destroy(), 20); }, /broke off its answer/],
  ['answers 500', (_q, r) => r.writeHead(500, { 'content-type': 'text/plain' }).end('boom'), /HTTP 500: boom/],
  ['answers 503 as Prometheus does when overloaded', (_q, r) => r.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"error","errorType":"unavailable","error":"too many queries"}'), /too many queries/],
  ['never answers', () => undefined, /did not answer within/],
  // Success status codes with bodies that are no success (the router must not pass them on as 200).
  ['answers resultType "banana" with 200', json200({ status: 'success', data: { resultType: 'banana', result: [] } }), /no valid answer: (unknown )?resultType "banana"/],
  ['answers status "error" with 200', json200({ status: 'error', errorType: 'execution', error: 'boom' }), /no valid answer: status "error" in a 2xx answer: boom/],
  ['answers a result that is no array', json200({ status: 'success', data: { resultType: 'vector', result: { x: 1 } } }), /no valid answer: "result" is not an array/],
  ['answers "metric": null', json200({ status: 'success', data: { resultType: 'vector', result: [{ metric: null, value: [1, '1'] }] } }), /no valid answer: "metric" is not an object/],
  ['answers a nesting bomb for a label value', (_q, r) => r.writeHead(200, { 'content-type': 'application/json' })
    .end(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}},"value":[1,"1"]}]}}`),
  /no valid answer: a label value is not a string/],
  // Redirects are never followed, whether they lead to another collector or nowhere.
  ['redirects to another collector (301)', (q, r) => r.writeHead(301, { location: `${cluster.shards.a}${q.url}` }).end(), /answered HTTP 301, not an answer \(redirects are not followed\)/],
  ['redirects nowhere (302 without Location)', (_q, r) => r.writeHead(302).end(), /answered HTTP 302, not an answer/],
  ['answers 307', (_q, r) => r.writeHead(307, { location: '/elsewhere' }).end(), /answered HTTP 307, not an answer/],
];

describe.each(FAULTS)('a collector that %s', (_what, handler, reason) => {
  let router: Router;
  beforeAll(async () => {
    router = routerWith(await peer(handler));
  });

  it('is named in an error when the query reads only its shard, within the deadline', async () => {
    const { status, text, ms } = await ask(router, 'demo_num_cpus{cluster="f"}');
    expect(ms).toBeLessThan(3_000);
    expect(status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ status: 'error', error: expect.stringMatching(reason) });
    expect(text).toContain('shard \\"f\\"');
  });

  it('is left out of a query across shards, with a warning', async () => {
    const { status, text, ms } = await ask(router, 'count(demo_num_cpus)');
    expect(ms).toBeLessThan(3_000);
    expect(status).toBe(200);
    const body = JSON.parse(text) as { warnings: string[]; data: { result: unknown[] } };
    expect(body.data.result).toHaveLength(1);
    expect(body.warnings).toEqual([expect.stringMatching(/^partial response: shard "f": /)]);
    expect(body.warnings[0]).toMatch(reason);
  });

  it('does not stop the router serving the healthy shards', async () => {
    const { status } = await ask(router, 'demo_num_cpus{cluster="a"}');
    expect(status).toBe(200);
  });
});

describe('answers across shards that are no valid answers', () => {
  it.each([
    ['samples that are not [time, "value"]', { resultType: 'vector', result: [{ metric: {}, value: [1, 2] }] }],
    ['a matrix with a sample bomb', `{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],${'['.repeat(100_000)}${']'.repeat(100_000)}]}]}`],
    ['a scalar that is not [time, "value"]', { resultType: 'scalar', result: ['1', 1] }],
    ['no data at all', undefined],
  ])('leaves out a shard answering %s, with a warning naming it; 503 when partial answers are off', async (_what, data) => {
    const answer = data === undefined ? '{"status":"success"}' : `{"status":"success","data":${typeof data === 'string' ? data : JSON.stringify(data)}}`;
    const router = routerWith(await peer((_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(answer)));
    const { status, text } = await ask(router, 'count(demo_num_cpus)');
    expect(status).toBe(200);
    const body = JSON.parse(text) as { warnings: string[]; data: { result: unknown[] } };
    expect(body.data.result).toHaveLength(1);
    expect(body.warnings).toEqual([expect.stringMatching(/^partial response: shard "f": collector answered no valid answer: /)]);
    const strict = await router(new Request(`http://router.test/api/v1/query?query=count(demo_num_cpus)&time=${EVAL_TIME}&partial_response=false`));
    expect(strict.status).toBe(503);
  });

  it.each([
    ['/api/v1/series?match[]=demo_num_cpus', [{ job: 'x', bad: ['y'] }]],
    ['/api/v1/labels', [1, 2]],
    ['/api/v1/label/job/values', { not: 'a list' }],
    ['/api/v1/rules', { groups: null }],
    ['/api/v1/alerts', { alerts: [{ labels: null }] }],
    ['/api/v1/metadata', { up: 'x' }],
  ])('leaves out a shard whose %s answer has the wrong shape, with a warning naming it', async (path, data) => {
    const router = routerWith(await peer(json200({ status: 'success', data })));
    const response = await router(new Request(`http://router.test${path}`));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { warnings: string[] };
    expect(body.warnings).toEqual([expect.stringMatching(/^partial response: shard "f": collector answered no valid answer: data/)]);
  });
});

describe('a collector answering pretty-printed JSON whose series carry the shard label themselves', () => {
  // A relabelling collector in front of shard a's Prometheus: its series say cluster="own", and its
  // JSON has whitespace between tokens (the single-shard path used to add no label at all then).
  let router: Router;
  beforeAll(async () => {
    const relabelling = await peer(async (req, res) => {
      const upstream = await fetch(`${cluster.shards.a}${req.url}`);
      const body = (await upstream.json()) as { data?: { result?: { metric: Record<string, string> }[] } };
      for (const s of body.data?.result ?? []) s.metric = { ...s.metric, cluster: 'own' };
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
    });
    const map = parseShardMap({ shards: { a: relabelling, b: cluster.shards.b } });
    router = createRouter({ shardMap: async () => map, timeoutMs: 5_000, log: () => undefined });
  });

  const shardA = async (query: string) => {
    const { status, text } = await ask(router, query);
    expect(status).toBe(200);
    // Each label set names the shard label once, whatever JSON.parse would make of duplicates.
    for (const labels of text.match(/"metric"\s*:\s*\{[^}]*\}/g) ?? []) expect(labels.match(/"cluster"/g)).toHaveLength(1);
    const result = (JSON.parse(text) as { data: { result: { metric: Record<string, string> }[] } }).data.result;
    return result.map((s) => s.metric).filter((m) => m.cluster === 'a').map((m) => JSON.stringify(sortedLabels(m))).sort();
  };

  it('gets the same rule on the single-shard and the cross-shard path: the router value, theirs as original_cluster, each key once', async () => {
    const direct = await fetch(`${cluster.shards.a}/api/v1/query?query=demo_num_cpus&time=${EVAL_TIME}`);
    const expected = ((await direct.json()) as { data: { result: { metric: Record<string, string> }[] } }).data.result
      .map((s) => JSON.stringify(sortedLabels({ ...s.metric, cluster: 'a', original_cluster: 'own' }))).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(await shardA('demo_num_cpus{cluster="a"}')).toEqual(expected);
    expect(await shardA('demo_num_cpus')).toEqual(expected);
  });
});

describe('large answers across shards', () => {
  /** A peer answering every query with `count` series, written in pieces as they are made. */
  const seriesPeer = (count: number): RequestListener => (_q, r) => {
    r.writeHead(200, { 'content-type': 'application/json' });
    r.write('{"status":"success","data":{"resultType":"vector","result":[');
    for (let i = 0; i < count; i += 1000) {
      const rows = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) rows.push(`{"metric":{"__name__":"demo_num_cpus","instance":"i${j}"},"value":[${EVAL_TIME},"1"]}`);
      r.write(`${i === 0 ? '' : ','}${rows.join(',')}`);
    }
    r.end(']}}');
  };

  it("refuses, naming the shard, when the collectors' answers would take more memory than allowed", async () => {
    const map = parseShardMap({ shards: { a: cluster.shards.a, b: cluster.shards.b, f: await peer(seriesPeer(50_000)) } });
    const router = createRouter({ shardMap: async () => map, timeoutMs: 10_000, log: () => undefined, limits: { maxCollectorBytes: 1024 * 1024 } });
    const { status, text } = await ask(router, 'demo_num_cpus');
    expect(status).toBe(422);
    expect(JSON.parse(text)).toEqual({
      status: 'error', errorType: 'execution',
      error: 'shard "f": query processing would load more than 1048576 bytes of collector answers into memory: narrow the time range, raise the step or select fewer series',
    });
  });
});

describe('other faults', () => {
  it('passes a collector 422 on, naming the shard', async () => {
    const router = routerWith(await peer((_q, r) => r.writeHead(422, { 'content-type': 'application/json' })
      .end('{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}')));
    const { status, text } = await ask(router, 'demo_num_cpus{cluster="f"}');
    expect(status).toBe(422);
    expect(JSON.parse(text)).toEqual({ status: 'error', errorType: 'execution', error: 'shard "f": query processing would load too many samples into memory' });
  });

  it('waits for a slow collector that answers within the deadline', async () => {
    const slow = await peer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => setTimeout(async () => {
        const upstream = await fetch(`${cluster.shards.a}${req.url}`, req.method === 'POST'
          ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }
          : {});
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      }, 600));
    });
    const { status, text, ms } = await ask(routerWith(slow), 'demo_num_cpus{cluster="f"}');
    expect(status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(600);
    expect(JSON.parse(text).data.result.length).toBeGreaterThan(0);
  });

  it('answers 503 with the reason when no shard map can be read at a cold start', async () => {
    const router = createRouter({ shardMap: () => Promise.reject(new Error('cannot read shard map SSM parameter /x: ThrottlingException')), log: () => undefined });
    const response = await router(new Request('http://router.test/api/v1/labels'));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'error', errorType: 'unavailable', error: 'no shard map: cannot read shard map SSM parameter /x: ThrottlingException' });
    expect((await router(new Request('http://router.test/-/ready'))).status).toBe(503);
  });
});
