// Tenants end to end: the router as users run it (`prome-route serve`) in front of real collectors,
// with a shard map holding tenants and a router-wide token. A tenant must be answered exactly as a
// global Prometheus holding only its shards would answer; the oracle for that is the global
// Prometheus asked the same query with the tenant's shards matcher (`cluster=~"a|b"`) added to
// every selector, whatever matchers the selector has already.
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromQLSyntaxError } from '../../lib/promql/parse.ts';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { EVAL_TIME, RANGE } from './harness/generate.ts';
import { startCluster, type Cluster } from './harness/prometheus.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { addMatcher } from './inject.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';
import { isSorted, rangeParams, SHARDS } from './session.ts';

const newToken = () => randomBytes(32).toString('base64url');
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

const TENANTS = {
  ab: { token: newToken(), shards: ['a', 'b'] },
  c: { token: newToken(), shards: ['c'] },
};
type TenantName = keyof typeof TENANTS;
const ROUTER_TOKEN = newToken();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let cluster: Cluster;
let router: RunningRouter;

beforeAll(async () => {
  cluster = await startCluster({ shards: SHARDS });
  const mapFile = path.join(cluster.dataDir, 'tenants.json');
  const tenants = Object.fromEntries(Object.entries(TENANTS).map(([name, { token, shards }]) => [name, { tokenSha256: sha256(token), shards }]));
  await writeFile(mapFile, JSON.stringify({ shardLabel: 'cluster', shards: cluster.shards, tenants }));
  router = await startRouter(mapFile, '127.0.0.1:0', { env: { ROUTER_AUTH_TOKEN: ROUTER_TOKEN } });
});
afterAll(async () => {
  await router?.stop();
  await cluster?.stop();
  console.log(`tenants: ${tally.matched} answers identical to the oracle's, ${tally.refused} refused with 422 as for the router-wide token`);
});

const tally = { matched: 0, refused: 0 };

/** The tenant's shards as one matcher: what every selector of the oracle's query gets. */
const tenantMatcher = (tenant: TenantName) => `cluster=~"${TENANTS[tenant].shards.join('|')}"`;

/**
 * The oracle's query: the matcher added to every selector. Not for a query Prometheus rejects
 * (a parse error does not depend on the data): the added matcher could make it valid (`{__name__=~".*"}`
 * has no non-empty matcher, `{__name__=~".*", cluster=~"a|b"}` has one), so it is asked as it is. A
 * query the router cannot parse is asked as it is too: the global Prometheus must reject it as well.
 */
async function oracleQuery(query: string, tenant: TenantName): Promise<string> {
  const original = await callApi(cluster.globalUrl, '/api/v1/query', { query, time: String(EVAL_TIME) }, 'POST');
  if (original.httpStatus === 400) return query;
  try {
    return addMatcher(query, tenantMatcher(tenant));
  } catch (err) {
    if (err instanceof PromQLSyntaxError) return query;
    throw err;
  }
}

const isRefusal = (answer: ApiAnswer) => answer.httpStatus === 422 && /cannot evaluate|not supported/.test(answer.body.error ?? '');

/**
 * The query through the router with the tenant's token, instant and range, against the oracle. A
 * query the cross-shard engine refuses (422) counts only if the router-wide token's answer to the
 * oracle's query is the same refusal: a tenant adds no limitation of its own.
 */
async function expectTenantAnswer(tenant: TenantName, query: string, method: 'GET' | 'POST'): Promise<void> {
  const restricted = await oracleQuery(query, tenant);
  const cases = [
    { path: '/api/v1/query', params: { time: String(EVAL_TIME) }, ordered: isSortedQuery(query) },
    { path: '/api/v1/query_range', params: rangeParams(RANGE), ordered: false },
  ];
  for (const c of cases) {
    const what = `${method} ${c.path} ${query} (oracle: ${restricted})`;
    const oracle = await callApi(cluster.globalUrl, c.path, { ...c.params, query: restricted }, 'POST');
    const answer = await callApi(router.url, c.path, { ...c.params, query }, method, bearer(TENANTS[tenant].token));
    if (isRefusal(answer) && oracle.body.status === 'success') {
      const routerWide = await callApi(router.url, c.path, { ...c.params, query: restricted }, method, bearer(ROUTER_TOKEN));
      expect(isRefusal(routerWide), `${what}: refused for the tenant (${answer.body.error}), not for the router-wide token`).toBe(true);
      tally.refused++;
      continue;
    }
    expect(diffAnswers(answer, oracle, c.ordered), what).toBeNull();
    tally.matched++;
  }
}

function isSortedQuery(query: string): boolean {
  try {
    return isSorted(query);
  } catch {
    return false;
  }
}

const compliance = loadComplianceQueries();

describe.concurrent('compliance queries, tenant of shards a and b', () => {
  it.each(compliance)('#$index $query', async ({ index, query }) => {
    await expectTenantAnswer('ab', query, index % 2 === 0 ? 'GET' : 'POST');
  });
});

const dashboards = loadDashboardExprs()
  .map((expr, i) => ({ expr, shard: SHARDS[i % SHARDS.length]! }))
  .filter(({ expr }) => parseLabelValues(expr) === null);

describe.concurrent('dashboard expressions, tenant of shards a and b, $cluster a, b or c (outside the tenant)', () => {
  it.each(dashboards.map((d, i) => ({ ...d, i })))('$shard: $expr', async ({ expr, shard, i }) => {
    await expectTenantAnswer('ab', substituteVariables(expr, shard), i % 2 === 0 ? 'POST' : 'GET');
  });
});

describe('the label API', () => {
  const window = { start: String(RANGE.start), end: String(RANGE.end) };
  /** match[] restricted to the tenant for the oracle; without match[], the tenant's shards alone. */
  const oracleParams = async (tenant: TenantName, params: Record<string, string | string[]>) => {
    const selectors = params['match[]'] === undefined ? [] : [params['match[]']].flat();
    const query = params.query;
    return {
      ...params,
      'match[]': selectors.length === 0 ? `{${tenantMatcher(tenant)}}` : await Promise.all(selectors.map((s) => oracleQuery(s, tenant))),
      ...(typeof query === 'string' ? { query: await oracleQuery(query, tenant) } : {}),
    };
  };

  async function expectLabelAnswer(tenant: TenantName, apiPath: string, params: Record<string, string | string[]>): Promise<ApiAnswer> {
    const oracle = await callApi(cluster.globalUrl, apiPath, { ...window, ...(await oracleParams(tenant, params)) }, 'GET');
    const answer = await callApi(router.url, apiPath, { ...window, ...params }, 'GET', bearer(TENANTS[tenant].token));
    const what = `${tenant}: ${apiPath} ${JSON.stringify(params)}`;
    expect(oracle.body.status, what).toBe('success');
    expect(answer.body, what).toEqual(oracle.body);
    return answer;
  }

  it('lists only c for a tenant of c, and only what the oracle lists, whatever the selectors say', async () => {
    const values = await expectLabelAnswer('c', '/api/v1/label/cluster/values', {});
    expect(values.body.data).toEqual(['c']);
    for (const [apiPath, params] of [
      ['/api/v1/label/cluster/values', { 'match[]': 'demo_num_cpus{cluster=~".+"}' }],
      ['/api/v1/label/cluster/values', { 'match[]': 'demo_num_cpus{cluster="a"}' }],
      ['/api/v1/label/instance/values', {}],
      ['/api/v1/label/__name__/values', { 'match[]': '{cluster!="c", __name__=~"demo_.*"}' }],
      ['/api/v1/labels', {}],
      ['/api/v1/labels', { 'match[]': ['up', 'demo_num_cpus{cluster=~"a|b"}'] }],
      ['/api/v1/series', { 'match[]': 'demo_num_cpus' }],
      ['/api/v1/series', { 'match[]': ['demo_num_cpus{cluster="a"}', 'node_load1{cluster=~"b|c"}'] }],
      ['/api/v1/query_exemplars', { query: 'demo_api_request_duration_seconds_bucket' }],
    ] as [string, Record<string, string | string[]>][]) {
      await expectLabelAnswer('c', apiPath, params);
      await expectLabelAnswer('ab', apiPath, params);
    }
  });

  it("answers the dashboards' label_values() variables for a tenant of a and b like the oracle", async () => {
    for (const expr of loadDashboardExprs()) {
      const lv = parseLabelValues(expr);
      if (lv === null) continue;
      const params: Record<string, string> = lv.selector === null ? {} : { 'match[]': substituteVariables(lv.selector, 'a') };
      await expectLabelAnswer('ab', `/api/v1/label/${lv.label}/values`, params);
    }
  });
});

describe('credentials', () => {
  const labels = (headers: Record<string, string>) => callApi(router.url, '/api/v1/label/cluster/values', {}, 'GET', headers);

  it('no token and a wrong token get 401; the router-wide token sees every shard', async () => {
    expect(await labels({})).toMatchObject({ httpStatus: 401, body: { status: 'error', errorType: 'unauthorized' } });
    expect(await labels(bearer(newToken()))).toMatchObject({ httpStatus: 401, body: { errorType: 'unauthorized' } });
    expect(await labels(bearer(sha256(TENANTS.ab.token)))).toMatchObject({ httpStatus: 401 });
    expect((await labels(bearer(ROUTER_TOKEN))).body.data).toEqual(['a', 'b', 'c']);
    expect((await labels(bearer(TENANTS.ab.token))).body.data).toEqual(['a', 'b']);
  });

  it('the request log lines name the tenant and hold no token or hash', async () => {
    await labels(bearer(TENANTS.c.token));
    const entries = async () => router.logs.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    // `serve` writes its lines once per turn of its event loop.
    for (let i = 0; i < 50 && !(await entries()).some((e) => e.tenant === 'c'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = await entries();
    expect(lines.find((e) => e.tenant === 'c')).toMatchObject({ msg: 'request', endpoint: 'label/values', status: 200, shards: { c: expect.any(Object) } });
    const all = router.logs.join('\n');
    for (const token of [TENANTS.ab.token, TENANTS.c.token, ROUTER_TOKEN]) {
      expect(all).not.toContain(token);
      expect(all).not.toContain(sha256(token));
    }
  });
});
