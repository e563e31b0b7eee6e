// Tenants through the core: who gets 401, which shards each caller's requests reach (counted by
// collector stand-ins on loopback), what the answers and the request log say. The answers themselves are compared with a real global Prometheus in
// test/e2e/tenants.test.ts; the collectors never asked, whatever the query, in test/property.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/api/log.ts';
import { createRouter, type RouterOptions } from '../../lib/api/router.ts';
import { parseShardMap, type ShardMap } from '../../lib/shards/schema.ts';
import { startCollectorStandIn, type CollectorStandIn } from '../support/collector.ts';

let collectors: Record<'a' | 'b' | 'c', CollectorStandIn>;
const TOKENS = { dev: 'dev-token-0123456789', ops: 'ops-token-0123456789' };
const ROUTER_TOKEN = 'router-wide-token';
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

let map: ShardMap;
let withoutTenants: ShardMap;

beforeAll(async () => {
  collectors = { a: await startCollectorStandIn('a'), b: await startCollectorStandIn('b'), c: await startCollectorStandIn('c') };
  const shards = Object.fromEntries(Object.entries(collectors).map(([name, c]) => [name, c.url]));
  withoutTenants = parseShardMap({ shards });
  map = parseShardMap({
    shards,
    tenants: { dev: { tokenSha256: sha256(TOKENS.dev), shards: ['b'] }, ops: { tokenSha256: sha256(TOKENS.ops), shards: ['c', 'a'] } },
  });
});
afterAll(async () => {
  for (const c of Object.values(collectors ?? {})) await c.close();
});
beforeEach(() => {
  for (const c of Object.values(collectors)) c.seen.length = 0;
});

const quiet: Logger = () => undefined;
const router = (extra: Partial<RouterOptions> = {}) => createRouter({ shardMap: async () => map, log: quiet, ...extra });
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const asked = () => Object.entries(collectors).filter(([, c]) => c.seen.length > 0).map(([name]) => name);

async function call(r: ReturnType<typeof router>, path: string, init?: RequestInit) {
  const response = await r(new Request(`http://router.test${path}`, init));
  return { status: response.status, body: (await response.json()) as { status: string; data?: unknown; error?: string; warnings?: string[] } };
}

/** Every endpoint, with queries that name shards inside and outside any tenant, or none. */
const EVERY_ENDPOINT = [
  '/api/v1/query?query=up',
  '/api/v1/query?query=1%2B1',
  '/api/v1/query?query=up%7Bcluster%3D%22a%22%7D',
  '/api/v1/query?query=sum%28up%7Bcluster%3D~%22.%2A%22%7D%29',
  '/api/v1/query?query=absent%28up%7Bcluster%21%3D%22b%22%7D%29',
  '/api/v1/query?query=label_replace%28vector%281%29%2C%22cluster%22%2C%22a%22%2C%22%22%2C%22%22%29',
  '/api/v1/query_range?query=up&start=0&end=60&step=15',
  '/api/v1/query_exemplars?query=up&start=0&end=60',
  '/api/v1/series?match[]=up',
  '/api/v1/series?match[]=up%7Bcluster%3D%22a%22%7D',
  '/api/v1/labels',
  '/api/v1/label/cluster/values',
  '/api/v1/label/cluster/values?match[]=up%7Bcluster%3D~%22a%7Cc%22%7D',
  '/api/v1/label/job/values',
  '/api/v1/metadata',
  '/api/v1/rules',
  '/api/v1/alerts',
  '/api/v1/status/buildinfo',
];

describe('which shards a request reaches', () => {
  it('a tenant\'s token reaches its shards only, on every endpoint', async () => {
    const r = router();
    for (const [tenant, shards] of [['dev', ['b']], ['ops', ['a', 'c']]] as const) {
      for (const path of EVERY_ENDPOINT) {
        for (const c of Object.values(collectors)) c.seen.length = 0;
        const { status } = await call(r, path, bearer(TOKENS[tenant]));
        expect(status, `${tenant} ${path}`).toBe(200);
        for (const shard of asked()) expect(shards, `${tenant} ${path} asked ${shard}`).toContain(shard);
      }
    }
  });

  it('the router-wide credential keeps seeing every shard', async () => {
    const r = router({ auth: { token: ROUTER_TOKEN } });
    const { body } = await call(r, '/api/v1/label/cluster/values', bearer(ROUTER_TOKEN));
    expect(body.data).toEqual(['a', 'b', 'c']);
    expect(asked()).toEqual(['a', 'b', 'c']);
  });

  it('answers a tenant as a Prometheus holding only its shards: cluster values, labels, alerts, buildinfo', async () => {
    const r = router();
    const ask = async (path: string, tenant: keyof typeof TOKENS = 'ops') => (await call(r, path, bearer(TOKENS[tenant]))).body.data;
    expect(await ask('/api/v1/label/cluster/values')).toEqual(['a', 'c']);
    expect(await ask('/api/v1/label/cluster/values?match[]=up%7Bcluster%3D~%22b%7Cc%22%7D')).toEqual(['c']);
    expect(await ask('/api/v1/labels')).toEqual(['__name__', 'cluster', 'job']);
    expect(await ask('/api/v1/series?match[]=up')).toEqual([{ __name__: 'up', cluster: 'a', job: 'a' }, { __name__: 'up', cluster: 'c', job: 'c' }]);
    expect(await ask('/api/v1/alerts')).toEqual({ alerts: [{ labels: { alertname: 'a', cluster: 'a' } }, { labels: { alertname: 'c', cluster: 'c' } }] });
    expect(await ask('/api/v1/metadata')).toEqual({ a_metric: [{ type: 'gauge', help: 'a', unit: '' }], c_metric: [{ type: 'gauge', help: 'c', unit: '' }] });
    // The map's first shard is a; dev's buildinfo comes from its own first shard.
    expect(await ask('/api/v1/status/buildinfo', 'dev')).toEqual({ version: 'collector b' });
  });

  it('treats a shard outside the tenant exactly like a shard the map does not have', async () => {
    const r = router();
    const outside = await call(r, '/api/v1/query?query=up%7Bcluster%3D%22a%22%7D&time=100', bearer(TOKENS.dev));
    // The remaining time (`timeout`) aside, which differs from one request to the next.
    const sent = () => collectors.b.seen.map((s) => [s.path, [...s.params].filter(([name]) => name !== 'timeout')]);
    const sentOutside = sent();
    collectors.b.seen.length = 0;
    const unknown = await call(r, '/api/v1/query?query=up%7Bcluster%3D%22zz%22%7D&time=100', bearer(TOKENS.dev));
    expect(outside).toEqual(unknown);
    expect(outside.body.data).toEqual({ resultType: 'vector', result: [] });
    // Same request to the same collector: nothing on the wire tells that "a" exists.
    expect(sentOutside).toEqual(sent());
    expect(asked()).toEqual(['b']);
  });

  it('names only the tenant\'s shards in partial-response warnings', async () => {
    const down = parseShardMap({
      shards: { a: collectors.a.url, b: 'http://127.0.0.1:9', c: collectors.c.url },
      tenants: { ops: { tokenSha256: sha256(TOKENS.ops), shards: ['a', 'c'] }, all: { tokenSha256: sha256(TOKENS.dev), shards: ['a', 'b', 'c'] } },
    });
    const r = createRouter({ shardMap: async () => down, log: quiet });
    expect((await call(r, '/api/v1/labels', bearer(TOKENS.ops))).body).not.toHaveProperty('warnings');
    const { body } = await call(r, '/api/v1/labels', bearer(TOKENS.dev));
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings![0]).toContain('shard "b"');
  });
});

describe('who gets 401', () => {
  it('with tenants, a request without a tenant token or the router-wide credential', async () => {
    for (const r of [router(), router({ auth: { token: ROUTER_TOKEN, basic: { user: 'grafana', password: 'pw' } } })]) {
      expect(await call(r, '/api/v1/labels')).toMatchObject({ status: 401, body: { errorType: 'unauthorized', error: 'authentication required' } });
      expect(await call(r, '/api/v1/labels', bearer('wrong'))).toMatchObject({ status: 401, body: { error: 'invalid credentials' } });
      // A hash is not a token.
      expect((await call(r, '/api/v1/labels', bearer(sha256(TOKENS.dev)))).status).toBe(401);
      // One token68 and nothing after it, as for the router-wide token.
      expect((await call(r, '/api/v1/labels', bearer(`${TOKENS.dev} junk`))).status).toBe(401);
      const basic = { headers: { Authorization: `Basic ${Buffer.from('grafana:nope').toString('base64')}` } };
      expect((await call(r, '/api/v1/labels', basic)).status).toBe(401);
    }
    expect(asked()).toEqual([]);
    const basic = { headers: { Authorization: `Basic ${Buffer.from('grafana:pw').toString('base64')}` } };
    const r = router({ auth: { basic: { user: 'grafana', password: 'pw' } } });
    expect((await call(r, '/api/v1/label/cluster/values', basic)).body.data).toEqual(['a', 'b', 'c']);
  });

  it('without tenants, nothing changes: an open router stays open, tenant tokens are just wrong tokens', async () => {
    const open = createRouter({ shardMap: async () => withoutTenants, log: quiet });
    expect((await call(open, '/api/v1/label/cluster/values')).body.data).toEqual(['a', 'b', 'c']);
    const secured = createRouter({ shardMap: async () => withoutTenants, log: quiet, auth: { token: ROUTER_TOKEN } });
    expect((await call(secured, '/api/v1/labels', bearer(TOKENS.dev))).status).toBe(401);
  });

  it('leaves the health checks open', async () => {
    expect((await router()(new Request('http://router.test/-/ready'))).status).toBe(200);
  });
});

describe('request logs', () => {
  it('name the tenant, and never hold a token or a hash', async () => {
    const entries: Record<string, unknown>[] = [];
    const r = router({ log: (e) => entries.push(e), auth: { token: ROUTER_TOKEN } });
    const answers = [
      await call(r, '/api/v1/labels', bearer(TOKENS.ops)),
      await call(r, '/api/v1/labels', bearer(ROUTER_TOKEN)),
      await call(r, '/api/v1/labels', bearer('wrong')),
    ];
    expect(entries.map((e) => [e.tenant, e.status])).toEqual([['ops', 200], [undefined, 200], [undefined, 401]]);
    expect(Object.keys(entries[0]!.shards as object)).toEqual(['a', 'c']);
    const written = JSON.stringify([entries, answers]);
    for (const secret of [...Object.values(TOKENS), ROUTER_TOKEN]) {
      expect(written).not.toContain(secret);
      expect(written).not.toContain(sha256(secret));
    }
  });

  it('of a map without tenants have no tenant field', async () => {
    const entries: Record<string, unknown>[] = [];
    await call(createRouter({ shardMap: async () => withoutTenants, log: (e) => entries.push(e) }), '/api/v1/labels');
    expect(entries[0]).not.toHaveProperty('tenant');
  });
});
