// The parser and checker against the real Prometheus 2.42 (Debian's, the collectors' version): a
// query parses on the router exactly when the server accepts it, and where the server calls it a
// parse error, the router's message is the server's, word for word. Both ways the router reads a
// query for a 2.42 shard are judged: the 2.42 dialect, and the union parse followed by the major-2
// check (what the cross-shard path does).
//
// Queries: the compliance tester's, the dashboards', every `eval` expression of Prometheus's own
// v2.42.0 and v3.14.0 test files (the latter mostly 3.x syntax 2.42 must refuse), and the property
// tests' generated and mutated queries (a fixed sample).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkQuery } from '../../lib/promql/check.ts';
import { parseQuery } from '../../lib/promql/parse.ts';
import { queryInstant } from '../e2e/harness/client.ts';
import { startPrometheus, type PrometheusServer } from '../e2e/harness/prometheus.ts';
import { corpusCaseArb, generatedCaseArb } from '../property/harness.ts';
import { corpusQueries, evalExpressions } from './corpus.ts';

const SAMPLE = Number(process.env.DIFFERENTIAL_SAMPLE ?? 2000);
const SEED = 20261124;
const CONCURRENCY = 8;

/** How the router reads a query for a 2.42 shard: null if it accepts it, else its error message. */
function routerVerdict(query: string, how: 'dialect 2' | 'union, check 2'): string | null {
  try {
    const parsed = how === 'dialect 2' ? parseQuery(query, { dialect: 2 }) : parseQuery(query);
    checkQuery(parsed, { major: 2 });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Go's unicode tables (Unicode 13 in the Go that built 2.42) do not know the newest characters, so
 * `%q` escapes some characters JavaScript's tables call printable: compare with those unescaped.
 */
const unescapeWide = (s: string) => s.replace(/\\U([0-9a-f]{8})/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));

let server: PrometheusServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-differential-'));
  // An empty server: the verdict is the parser's; evaluation is kept small and short.
  server = await startPrometheus({
    dataDir, readyQuery: 'vector(1)', readyTime: 0, extraArgs: ['--query.max-samples=10000', '--query.timeout=2s'],
  }, 'differential');
});

afterAll(async () => {
  await server?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

/** The server's verdict: null if it parses the query, else its parse error. */
async function serverVerdict(query: string): Promise<string | null> {
  const r = await queryInstant(server.url, query, 0);
  if (r.errorType !== 'bad_data') return null;
  const prefix = 'invalid parameter "query": ';
  if (!r.error?.startsWith(prefix)) throw new Error(`unexpected bad_data for ${JSON.stringify(query)}: ${r.error}`);
  return r.error.slice(prefix.length);
}

async function verdicts(queries: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array(queries.length);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < queries.length) {
      const i = next++;
      out[i] = await serverVerdict(queries[i]!);
    }
  }));
  return out;
}

function sources(): [string, string[]][] {
  const { compliance, dashboards } = corpusQueries();
  return [
    ['compliance queries', compliance],
    ['dashboard expressions', dashboards],
    ['v2.42.0 test files', evalExpressions('v2.42.0').map((e) => e.expr)],
    ['v3.14.0 test files', evalExpressions('v3.14.0').map((e) => e.expr)],
    ['generated queries', fc.sample(generatedCaseArb, { numRuns: SAMPLE, seed: SEED }).map((c) => c.text)],
    ['mutated corpus queries', fc.sample(corpusCaseArb, { numRuns: SAMPLE, seed: SEED }).map((c) => c.text)],
  ];
}

describe('the router parses a query exactly when Prometheus 2.42 does, with its error message', () => {
  it.each(sources())('%s', async (_name, all) => {
    // What no client can send: a lone surrogate has no UTF-8 form; the empty query is refused before parsing.
    const queries = [...new Set(all)].filter((q) => q.trim() !== '' && !/\p{Surrogate}/u.test(q));
    const expected = await verdicts(queries);
    const mismatches: string[] = [];
    let errors = 0;
    queries.forEach((q, i) => {
      const want = expected[i]!;
      if (want !== null) errors++;
      for (const how of ['dialect 2', 'union, check 2'] as const) {
        const got = routerVerdict(q, how);
        if ((got === null) !== (want === null) || (got !== null && unescapeWide(got) !== unescapeWide(want!))) {
          mismatches.push(`${how}: ${JSON.stringify(q)}\n  router:     ${got}\n  Prometheus: ${want}`);
        }
      }
    });
    console.info(`${_name}: ${queries.length} queries, ${queries.length - errors} accepted, ${errors} parse errors; ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  }, 300_000);
});
