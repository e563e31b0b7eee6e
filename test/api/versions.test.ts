// Each shard's Prometheus major from its build info, cached, and the one rule that picks the semantics
// of the router's own evaluation: collectors on loopback that answer as Prometheus 2.42 or 3.14 would
// (build info, and a sample for any query), the router in front of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../lib/api/router.ts';
import { majorOf, semanticsOf, ShardVersions } from '../../lib/api/versions.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { serveOnLoopback } from '../support/loopback.ts';

interface Collector { url: string; close(): Promise<void>; paths: string[]; version: string }

async function collector(version: string): Promise<Collector> {
  const paths: string[] = [];
  const state = { version };
  const server = await serveOnLoopback((request, _body, response) => {
    const path = new URL(request.url ?? '/', 'http://c').pathname;
    paths.push(path);
    const data = path === '/api/v1/status/buildinfo'
      ? { version: state.version, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' }
      : { resultType: 'vector', result: [{ metric: { __name__: 'up' }, value: [100, '1'] }] };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
  });
  return Object.assign(state, { ...server, paths });
}

describe('majorOf and the rule', () => {
  it('reads the major of Prometheus versions only', () => {
    expect([majorOf('2.42.0'), majorOf('3.14.0'), majorOf('v3.0.0-rc.1'), majorOf('0.34.1'), majorOf('collector a')]).toEqual([2, 3, 3, null, null]);
  });

  it('follows one major, takes 3.x with a warning for mixed majors, and 2.x where none is known', () => {
    expect(semanticsOf(new Map([['a', 3], ['b', 3]]))).toEqual({ major: 3, warning: null });
    expect(semanticsOf(new Map([['a', 2], ['b', null]]))).toEqual({ major: 2, warning: null });
    expect(semanticsOf(new Map([['a', null]]))).toEqual({ major: 2, warning: null });
    const mixed = semanticsOf(new Map([['a', 2], ['b', 3], ['c', 3]]));
    expect(mixed.major).toBe(3);
    expect(mixed.warning).toMatch(/^shards run Prometheus 2\.x \("a"\) and 3\.x \("b", "c"\): the router evaluated its part of the query with 3\.x semantics/);
  });
});

describe('a router in front of collectors of both majors', () => {
  const collectors: Record<string, Collector> = {};
  beforeAll(async () => {
    collectors.old = await collector('2.42.0');
    collectors.older = await collector('2.42.0');
    collectors.new = await collector('3.14.0');
    collectors.newer = await collector('3.14.0');
  });
  afterAll(async () => {
    for (const c of Object.values(collectors)) await c.close();
  });

  const routerFor = (names: string[]) => {
    const map = parseShardMap({ shards: Object.fromEntries(names.map((n) => [n, collectors[n]!.url])) });
    return createRouter({ shardMap: async () => map, log: () => undefined });
  };
  const ask = async (router: ReturnType<typeof routerFor>, query: string) => {
    const response = await router(new Request(`http://router/api/v1/query?query=${encodeURIComponent(query)}&time=100`));
    return { status: response.status, body: (await response.json()) as { status: string; data?: unknown; warnings?: string[]; error?: string } };
  };

  it('says which semantics it used where the shards run both majors, and asks each build info once per TTL', async () => {
    const router = routerFor(['old', 'new']);
    const builds = () => Object.values(collectors).flatMap((c) => c.paths).filter((p) => p === '/api/v1/status/buildinfo').length;
    const before = builds();
    const first = await ask(router, 'sum(up)');
    expect(first.status).toBe(200);
    expect(first.body.warnings).toEqual([expect.stringMatching(/^shards run Prometheus 2\.x \("old"\) and 3\.x \("new"\): the router evaluated its part of the query with 3\.x semantics/)]);
    await ask(router, 'sum(up)');
    expect(builds() - before).toBe(2);
  });

  it("keeps each shard's version while tenants see different shards of one map, and sees a changed one once its read ends", async () => {
    const whole = parseShardMap({ shards: { old: collectors.old!.url, new: collectors.new!.url } });
    const viewOf = (name: string) => parseShardMap({ shards: { [name]: collectors[name]!.url } });
    const [oldOnly, newOnly] = [viewOf('old'), viewOf('new')];
    const builds = () => collectors.old!.paths.concat(collectors.new!.paths).filter((p) => p === '/api/v1/status/buildinfo').length;
    const versions = new ShardVersions(60_000);
    const before = builds();
    for (let i = 0; i < 4; i++) {
      expect([...await versions.versions(oldOnly)]).toEqual([['old', '2.42.0']]);
      expect([...await versions.versions(newOnly)]).toEqual([['new', '3.14.0']]);
    }
    expect([...await versions.majors(whole)]).toEqual([['old', 2], ['new', 3]]);
    expect(builds() - before).toBe(2);

    // With a TTL of 0 every request starts a read; the version a read brings is the next request's.
    const fresh = new ShardVersions(0);
    expect([...await fresh.versions(oldOnly)]).toEqual([['old', '2.42.0']]);
    collectors.old!.version = '3.0.0';
    try {
      await fresh.versions(oldOnly); // starts the read that learns 3.0.0, answered from what was known
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([...await fresh.versions(oldOnly)]).toEqual([['old', '3.0.0']]);
    } finally {
      collectors.old!.version = '2.42.0';
    }
  });

  it('follows the one major of its shards without a warning', async () => {
    const { status, body } = await ask(routerFor(['new', 'newer']), 'sum(up)');
    expect(status).toBe(200);
    expect(body.warnings ?? []).toEqual([]);
  });

  it('judges a query across shards by every major it reads', async () => {
    // 3.x renamed holt_winters: a 3.x shard would refuse its leaf, so the router refuses it at once.
    const { status, body } = await ask(routerFor(['old', 'new']), 'holt_winters(sum(up)[10m:1m], 0.5, 0.5)');
    expect(status).toBe(422);
    expect(body.error).toMatch(/^the query reads shards of Prometheus 2\.x and 3\.x, and 3\.x refuses it: .*holt_winters/);
    // Across 2.x shards alone, the engine evaluates it.
    expect((await ask(routerFor(['old', 'older']), 'holt_winters(sum(up)[10m:1m], 0.5, 0.5)')).status).toBe(200);
  });
});
