// The dashboard load of issue 11, shared by bench/dashboards.ts and bench/handler-cpu.ts: the PromQL
// expressions of the three dashboards in ../shared/corpus/dashboards (Grafana's label_values()
// variable queries left out), variables filled in as test/e2e fills them, each sent as a query_range
// over a 4-hour window at a 15 s step, by POST with a form body as Grafana sends it.
import http from 'node:http';
import { parsePromQL } from '../lib/promql/parse.ts';
import { vectorSelectors } from '../lib/promql/ast.ts';
import { loadDashboardExprs } from '../test/e2e/harness/corpus.ts';
import { END_S, SHARD_LABEL } from '../test/e2e/harness/generate.ts';
import { parseLabelValues, substituteVariables } from '../test/e2e/harness/variables.ts';
import { setMatcher } from '../test/e2e/inject.ts';
import { exchange } from './support.ts';

/**
 * The last 4 hours of the data at 15 s (961 points per series), as a dashboard set to "Last 4 hours"
 * asks when opened at the end of the dataset: the data fills the last 2 of them. Grafana aligns start
 * and end to the step; END_S is on the 15 s grid.
 */
export const WINDOW = { start: END_S - 4 * 3600, end: END_S, step: 15 } as const;

/** A browser sends at most 6 requests at once to one host (HTTP/1.1), and so does Grafana's frontend. */
export const IN_FLIGHT = 6;

/** The shard whose collector answers the one-cluster load directly. */
const ONE_SHARD = 'a';

export interface DashboardCase {
  /** As the tables name it: `one cluster`, `two clusters`, `all clusters`. */
  readonly name: string;
  /** The shard matcher the router's queries carry, in words. */
  readonly matcher: string;
  /** The router's load. */
  readonly routerQueries: readonly string[];
  /** Which server answers the same data directly: a shard's name (its collector) or `global`. */
  readonly direct: string;
  readonly directName: string;
  readonly directQueries: readonly string[];
}

/**
 * Removes every shard-label matcher from a query's selectors (the query as a user of one Prometheus
 * holding the data writes it). `x{}` is valid PromQL, so a selector may be left with empty braces.
 */
export function withoutShardMatchers(query: string, label = SHARD_LABEL): string {
  const edits: { from: number; to: number; text: string }[] = [];
  for (const selector of vectorSelectors(parsePromQL(query))) {
    if (selector.braces === null || !selector.matchers.some((m) => m.name === label)) continue;
    const kept = selector.matchers.filter((m) => m.name !== label).map((m) => query.slice(m.from, m.to));
    edits.push({ from: selector.braces.from + 1, to: selector.braces.to - 1, text: kept.join(', ') });
  }
  let out = query;
  for (const e of edits.sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}

/**
 * The three loads of the issue. Variables are filled in for shard a (`$cluster`, `$node`, ...); the
 * shard matchers are then set as each case needs: `cluster="a"` everywhere (the router) against the
 * query without them on shard a's collector; `cluster=~"a|c"` to both the router and the global
 * Prometheus; no shard matcher at all to both.
 */
export function dashboardCases(): DashboardCase[] {
  const exprs = loadDashboardExprs().filter((expr) => parseLabelValues(expr) === null).map((expr) => substituteVariables(expr, ONE_SHARD));
  const unsharded = exprs.map((q) => withoutShardMatchers(q));
  const twoClusters = exprs.map((q) => setMatcher(q, SHARD_LABEL, `${SHARD_LABEL}=~"a|c"`));
  return [
    {
      name: 'one cluster', matcher: `\`${SHARD_LABEL}="${ONE_SHARD}"\` in every selector`,
      routerQueries: exprs.map((q) => setMatcher(q, SHARD_LABEL, `${SHARD_LABEL}="${ONE_SHARD}"`)),
      direct: ONE_SHARD, directName: `shard ${ONE_SHARD}'s collector`, directQueries: unsharded,
    },
    {
      name: 'two clusters', matcher: `\`${SHARD_LABEL}=~"a|c"\` in every selector`,
      routerQueries: twoClusters, direct: 'global', directName: 'the global Prometheus', directQueries: twoClusters,
    },
    {
      name: 'all clusters', matcher: 'no shard matcher',
      routerQueries: unsharded, direct: 'global', directName: 'the global Prometheus', directQueries: unsharded,
    },
  ];
}

/** The server that answers a case directly. */
export function directUrl(c: DashboardCase, shards: Readonly<Record<string, string>>, globalUrl: string): string {
  return c.direct === 'global' ? globalUrl : shards[c.direct]!;
}

export interface Window { readonly start: number; readonly end: number; readonly step: number }

/** The form body of one panel query (over WINDOW, or the window given: a refresh moves it). */
export function rangeForm(query: string, window: Window = WINDOW): string {
  return new URLSearchParams({ query, start: String(window.start), end: String(window.end), step: String(window.step) }).toString();
}

export interface LoadResult {
  readonly wallMs: number;
  /** Answer bytes as received (after any content coding). */
  readonly bytes: number;
  /** Queries answered with anything but 200, with the start of the answer. */
  readonly failures: readonly string[];
}

/**
 * How the answers are asked for: `identity` (no Accept-Encoding), or `gzip` as Grafana's data source
 * proxy asks (Go's HTTP client sends `Accept-Encoding: gzip` and decompresses the answer itself).
 */
export type AnswerEncoding = 'identity' | 'gzip';

/**
 * Sends every query of a load to `baseUrl` with at most `inFlight` at once, in order, each reading its
 * whole answer, and returns when the last one has ended (the time a dashboard takes to fill). Node's
 * own HTTP client keeps the client's CPU low on this shared machine; connections are kept alive, as
 * a browser keeps them.
 */
export async function runLoad(
  baseUrl: string, queries: readonly string[], inFlight = IN_FLIGHT, window: Window = WINDOW, encoding: AnswerEncoding = 'identity',
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(encoding === 'gzip' ? { 'accept-encoding': 'gzip' } : {}) };
  let next = 0;
  let bytes = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < queries.length) {
      const query = queries[next++]!;
      const answer = await exchange(agent, baseUrl, { method: 'POST', path: '/api/v1/query_range', headers, body: rangeForm(query, window) });
      bytes += answer.bytes;
      if (answer.status !== 200) failures.push(`HTTP ${answer.status} ${query}: ${answer.head}`);
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, queries.length) }, worker));
  } finally {
    agent.destroy();
  }
  return { wallMs: performance.now() - t0, bytes, failures };
}
