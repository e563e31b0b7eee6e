// What a hostile or careless client can and cannot make the router do: upstream addresses come only
// from the shard map, credentials stay where they belong, and every bound has a clear error.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRouter, type RouterOptions } from '../../lib/api/router.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { serve } from '../../cli/serve.ts';

interface Seen { url: string; headers: IncomingHttpHeaders; body: string }

/** A collector stand-in that records what reaches it and answers like an empty Prometheus. */
function recorder(): { server: Server; seen: Seen[]; url: () => string } {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const data = req.url?.includes('/query') ? { resultType: 'vector', result: [] } : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
    });
  });
  return { server, seen, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const a = recorder();
const b = recorder();

/** What a collector was asked apart from its build info (which the router asks once per shard map TTL). */
const queries = (r: { seen: Seen[] }) => r.seen.filter((s) => !s.url.startsWith('/api/v1/status/buildinfo'));

beforeAll(async () => {
  for (const r of [a, b]) await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  a.server.close();
  b.server.close();
});
beforeEach(() => {
  a.seen.length = 0;
  b.seen.length = 0;
});

function router(extra: Partial<RouterOptions> = {}) {
  const map = parseShardMap({ shards: { a: { urls: [a.url()], headers: { Authorization: 'Bearer shard-a-secret' } }, b: b.url() } });
  return createRouter({ shardMap: async () => map, log: () => undefined, ...extra });
}

async function call(r: ReturnType<typeof router>, path: string, init?: RequestInit) {
  const response = await r(new Request(`http://router.test${path}`, init));
  return { status: response.status, body: (await response.json()) as { status: string; errorType?: string; error?: string } };
}

describe('upstream addresses come only from the shard map', () => {
  it('refuses label names that are not label names before asking any collector', async () => {
    const names: [string, string][] = [
      ['..%2F..%2Fadmin%2Ftsdb%2Fdelete_series', '"../../admin/tsdb/delete_series"'], ['x%2Fy', '"x/y"'],
      ['job%0d%0aX-Injected:%201', '"job\\r\\nX-Injected: 1"'],
    ];
    for (const [name, quoted] of names) {
      const { status, body } = await call(router(), `/api/v1/label/${name}/values`);
      expect(status).toBe(400);
      expect(body).toEqual({ status: 'error', errorType: 'bad_data', error: `invalid label name: ${quoted}` });
    }
    // `%2e%2e` is `..` to URL parsers: the path leaves the endpoint (404).
    expect((await call(router(), '/api/v1/label/%2e%2e/values')).status).toBe(404);
    expect(queries(a).length + queries(b).length).toBe(0);
    expect((await call(router(), '/api/v1/label/job/values')).status).toBe(200);
    for (const s of [...a.seen, ...b.seen]) expect(s.url.split('?')[0]).toBe('/api/v1/label/job/values');
  });

  it('treats absolute URLs and CRLF in parameters as (bad) PromQL, sending nothing anywhere', async () => {
    for (const query of ['http://169.254.169.254/latest/meta-data', 'up\r\nHost: evil.example', '//evil.example/api']) {
      const { status, body } = await call(router(), `/api/v1/query?query=${encodeURIComponent(query)}`);
      expect(status).toBe(400);
      expect(body.errorType).toBe('bad_data');
    }
    expect(queries(a).length + queries(b).length).toBe(0);
  });

  it('sends request values only encoded in the URL or the form body, never as headers', async () => {
    // Short parameters go to the collector in the URL, long ones (over 2 KiB) as a form body.
    for (const padding of ['', 'x'.repeat(3000)]) {
      b.seen.length = 0;
      await call(router(), '/api/v1/query', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${encodeURIComponent(`up{cluster="b", job="x\\r\\nX-Injected: 1${padding}"}`)}`,
      });
      expect(b.seen).toHaveLength(1);
      const seen = b.seen[0]!;
      expect(seen.headers['x-injected']).toBeUndefined();
      const sent = new URLSearchParams(padding === '' ? seen.url.split('?')[1] : seen.body);
      expect(sent.get('query')).toBe(`up{job="x\\r\\nX-Injected: 1${padding}"}`);
    }
  });
});

describe('credentials stay where they belong', () => {
  it("never forwards the caller's credentials; per-shard headers go to that shard only", async () => {
    const r = router({ auth: { token: 'router-token' } });
    const { status } = await call(r, '/api/v1/labels', { headers: { Authorization: 'Bearer router-token', Cookie: 'grafana_session=x' } });
    expect(status).toBe(200);
    expect(a.seen[0]!.headers.authorization).toBe('Bearer shard-a-secret');
    expect(b.seen[0]!.headers.authorization).toBeUndefined();
    for (const s of [...a.seen, ...b.seen]) expect(s.headers.cookie).toBeUndefined();
  });

  it('accepts the bearer token alone, not followed by anything', async () => {
    const r = router({ auth: { token: 'router-token' } });
    expect((await call(r, '/api/v1/labels', { headers: { Authorization: 'Bearer router-token junk' } })).status).toBe(401);
    expect((await call(r, '/api/v1/labels', { headers: { Authorization: 'Bearer router-token router-token' } })).status).toBe(401);
    expect((await call(r, '/api/v1/labels', { headers: { Authorization: 'Bearer router-token' } })).status).toBe(200);
  });

  it('keeps shard headers out of logs and errors', async () => {
    const entries: unknown[] = [];
    const map = parseShardMap({ shards: { a: { urls: ['http://127.0.0.1:1'], headers: { Authorization: 'Bearer shard-a-secret' } } } });
    const r = createRouter({ shardMap: async () => map, log: (e) => entries.push(e) });
    const { body } = await call(r, '/api/v1/labels');
    expect(body.status).toBe('error');
    expect(JSON.stringify([body, entries])).not.toContain('shard-a-secret');
  });
});

describe('limits', () => {
  it('refuses an overlong query', async () => {
    const { status, body } = await call(router({ limits: { maxQueryLength: 100 } }), `/api/v1/query?query=${'x'.repeat(101)}`);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid parameter "query": 101 characters, the limit is 100');
  });

  it('refuses too many match[]', async () => {
    const params = Array.from({ length: 4 }, (_, i) => `match[]=m${i}`).join('&');
    const { status, body } = await call(router({ limits: { maxSelectors: 3 } }), `/api/v1/series?${params}`);
    expect(status).toBe(400);
    expect(body.error).toBe('too many match[] parameters: 4, the limit is 3');
  });

  it('refuses a fan-out wider than allowed', async () => {
    const { status, body } = await call(router({ limits: { maxShards: 1 } }), '/api/v1/query?query=sum(up)');
    expect(status).toBe(422);
    expect(body.error).toBe('the request reads 2 shards, the limit is 1: name fewer clusters');
    expect((await call(router({ limits: { maxShards: 1 } }), '/api/v1/labels')).status).toBe(422);
  });

  it('holds rules, alerts and metadata to the fan-out limit too, asking no collector beyond it', async () => {
    for (const path of ['/api/v1/rules', '/api/v1/alerts', '/api/v1/metadata']) {
      const { status, body } = await call(router({ limits: { maxShards: 1 } }), path);
      expect(status, path).toBe(422);
      expect(body.error, path).toBe('the request reads 2 shards, the limit is 1: name fewer clusters');
    }
    expect(queries(a).length + queries(b).length).toBe(0);
  });

  it('asks each shard once for parts of a query that are the same query on the same grid', async () => {
    // Three times `sum(up)`: one request to each shard, not three.
    const { status } = await call(router(), `/api/v1/query?query=${encodeURIComponent('sum(up) / sum(up) * 100 + sum(up)')}&time=100`);
    expect(status).toBe(200);
    expect(queries(a)).toHaveLength(1);
    expect(queries(b)).toHaveLength(1);
  });

  it('asks each shard once for a query of many parts, and refuses one that would need more requests than allowed, before sending any', async () => {
    // A 2 KB query of 70 distinct aggregations: one request to every shard, all 70 in it.
    const query = Array.from({ length: 70 }, (_, i) => `sum(metric_${i})`).join(' + ');
    const { status } = await call(router(), `/api/v1/query?query=${encodeURIComponent(query)}&time=100`);
    expect(status).toBe(200);
    expect([queries(a).length, queries(b).length]).toEqual([1, 1]);
    a.seen.length = 0;
    b.seen.length = 0;
    // A subquery step that splits a leaf's grid into too many parts of 11,000 points counts too.
    const tiny = await call(router(), `/api/v1/query?query=${encodeURIComponent('max_over_time(sum(up)[2h:10ms])')}&time=100000`);
    expect(tiny.status).toBe(422);
    expect(tiny.body.error).toMatch(/^the query needs 66 requests to shard "a", the limit is 64 per shard/);
    expect(queries(a).length + queries(b).length).toBe(0);
  });

  it('refuses an answer larger than the response limit', async () => {
    const { status, body } = await call(router({ limits: { maxResponseBytes: 10 } }), '/api/v1/label/cluster/values');
    expect(status).toBe(422);
    expect(body.error).toContain('the answer is larger than 10 bytes');
  });

  it('limits the request rate with 429 and a Prometheus envelope', async () => {
    const r = router({ limits: { requestsPerSecond: 1 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(r, '/api/v1/labels')).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
  });

  it('answers oversized headers with 431 and keeps serving', async () => {
    const map = parseShardMap({ shards: { a: a.url() } });
    const { server, address } = await serve({ map, host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${address.port}`;
      const big = await fetch(`${base}/api/v1/labels`, { headers: { 'x-big': 'y'.repeat(64 * 1024) } });
      expect(big.status).toBe(431);
      expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
