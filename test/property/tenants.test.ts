// Property 6, a tenant's requests never reach a shard outside the tenant, whatever the query's
// matchers say. Observed where it matters, at the collectors: the core every platform runs
// (createRouter) in front of collector stand-ins on loopback that count the requests they get, with
// random queries (both sources), random shard maps, a random tenant of each map (fewer shards than
// the map wherever it has more than one) and random collectors down (so the router moves on to
// another shard, and partial answers name the ones that failed). Each case asks every query endpoint
// with the query (as `query` and as `match[]`) and one endpoint that takes none. The router's own
// trace (the request log's shards) must stay within the tenant too.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../lib/api/router.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { startCollectorStandIn, type CollectorStandIn } from '../support/collector.ts';
import { example, params, RUNS_PER_SOURCE, SOURCES, TEST_TIMEOUT_MS, type Case } from './harness.ts';
import { SHARD_LABEL } from './oracle.ts';

interface TenantCase {
  readonly query: Case;
  /** The tenant's shards, in the order its entry lists them. */
  readonly tenant: readonly string[];
  /** Per shard of the map, in map order: whether its collector answers (false: 503). */
  readonly up: readonly boolean[];
  /** The endpoint without a query asked besides the query endpoints. */
  readonly other: string;
}

/** Shard maps of the generators have at most this many shards. */
const MAX_SHARDS = 6;
const TOKEN = 'tenant-token';
const TOKEN_SHA256 = createHash('sha256').update(TOKEN).digest('hex');
const OTHERS = [
  '/api/v1/labels', '/api/v1/label/job/values', `/api/v1/label/${SHARD_LABEL}/values`, '/api/v1/metadata', '/api/v1/rules',
  '/api/v1/alerts', '/api/v1/status/buildinfo',
];

/** Cases per source: each sends a handful of HTTP requests, so a quarter of the plan-level properties'. */
const RUNS = Math.max(1, Math.ceil(RUNS_PER_SOURCE / 4));

const tenantCaseArb = (queries: fc.Arbitrary<Case>): fc.Arbitrary<TenantCase> => queries.chain((query) => fc.record({
  query: fc.constant(query),
  tenant: fc.shuffledSubarray([...query.shards], { minLength: 1, maxLength: Math.max(1, query.shards.length - 1) }),
  up: fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), { minLength: query.shards.length, maxLength: query.shards.length }),
  other: fc.constantFrom(...OTHERS),
}));

/**
 * What the issue names, and what the map's first shard being outside the tenant tests: queries that
 * name every shard or none, exclude one, write the shard label, ask for absence, nest, shift time.
 */
const KNOWN: TenantCase[] = [
  'up{cluster=~".*"}', 'up{cluster!="a"}', 'up{cluster=~"a|b"}', 'up{cluster="a"}', 'sum by (cluster) (up{cluster=~"a.*|c"})',
  'label_replace(up, "cluster", "a", "", "")', 'label_replace(up{cluster="c"}, "cluster", "a", "", "")', 'absent(up{cluster="a"})',
  'absent(nonexistent)', 'max_over_time(sum(up{cluster=~".+"})[5m:1m])', 'up{cluster="a"} @ 100 offset 5m', 'sum(up offset 1h) by (cluster)',
  '1+1', 'vector(1)', 'count(up{cluster!=""}) or vector(0)', '{__name__=~".+", cluster=~"a.*"}', 'up{cluster="a"} / on() group_left up{cluster="b"}',
].flatMap((text) => [
  { query: example(text), tenant: ['b'], up: [true, true, true], other: '/api/v1/status/buildinfo' },
  { query: example(text), tenant: ['c', 'b'], up: [true, false, true], other: `/api/v1/label/${SHARD_LABEL}/values` },
]);

let pool: CollectorStandIn[] = [];

beforeAll(async () => {
  pool = await Promise.all(Array.from({ length: MAX_SHARDS }, (_, i) => startCollectorStandIn(`collector-${i}`)));
});
afterAll(async () => {
  await Promise.all(pool.map((c) => c.close()));
});

/** Every request of the case through the core, with the tenant's token; the collectors and trace that saw them. */
async function askAsTenant(c: TenantCase): Promise<{ asked: Set<string>; traced: Set<string>; answers: string[] }> {
  const { shards } = c.query;
  if (shards.length > pool.length) throw new Error(`a map of ${shards.length} shards: start more collector stand-ins`);
  const map = parseShardMap({
    shards: Object.fromEntries(shards.map((name, i) => [name, pool[i]!.url])),
    tenants: { team: { tokenSha256: TOKEN_SHA256, shards: c.tenant } },
  });
  pool.forEach((collector, i) => {
    collector.seen.length = 0;
    collector.healthy = c.up[i] ?? true;
  });
  const traced = new Set<string>();
  const router = createRouter({
    shardMap: async () => map,
    log: (entry) => {
      if (entry.msg === 'request') for (const shard of Object.keys(entry.shards as object)) traced.add(shard);
    },
  });
  const query = encodeURIComponent(c.query.text);
  const paths = [
    `/api/v1/query?query=${query}&time=1000`,
    `/api/v1/query_range?query=${query}&start=0&end=3600&step=60`,
    `/api/v1/query_exemplars?query=${query}&start=0&end=3600`,
    `/api/v1/series?match[]=${query}`,
    `/api/v1/label/${SHARD_LABEL}/values?match[]=${query}`,
    c.other,
  ];
  const answers = [];
  for (const path of paths) {
    const response = await router(new Request(`http://router.test${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } }));
    answers.push(await response.text());
  }
  const asked = new Set(shards.filter((_, i) => pool[i]!.seen.length > 0));
  return { asked, traced, answers };
}

async function staysWithinTenant(c: TenantCase): Promise<void> {
  const { asked, traced, answers } = await askAsTenant(c);
  const what = `${JSON.stringify(c.query.text)}, map ${JSON.stringify(c.query.shards)}, tenant ${JSON.stringify(c.tenant)}`;
  for (const shard of asked) expect(c.tenant, `${what}: the collector of ${JSON.stringify(shard)} was asked`).toContain(shard);
  for (const shard of traced) expect(c.tenant, `${what}: the trace shows ${JSON.stringify(shard)}`).toContain(shard);
  // A handler reaching for a shard outside the view fails the request instead of asking it: a bypass all the same.
  for (const body of answers) expect(body, what).not.toContain('is not in the shard map');
}

describe('property 6: a tenant\'s requests never reach a shard outside the tenant', () => {
  for (const [name, arb] of SOURCES) {
    it(name, async () => {
      await fc.assert(fc.asyncProperty(tenantCaseArb(arb), staysWithinTenant), params<TenantCase>(KNOWN, RUNS));
    }, TEST_TIMEOUT_MS);
  }
});
