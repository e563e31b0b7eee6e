// One end-to-end session per test file: real collectors, the global oracle, the router started with
// the real CLI, and the comparison of router and oracle for instant and range queries, GET and POST.
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { parsePromQL } from '../../lib/promql/parse.ts';
import { diffAnswers, type ApiAnswer } from './compare.ts';
import { EVAL_TIME, RANGE } from './harness/generate.ts';
import { startCluster, writeShardMap, type Cluster, type StartClusterOptions } from './harness/prometheus.ts';
import { callApi, startRouter, type RunningRouter } from './router.ts';

export const SHARDS = ['a', 'b', 'c'];

export interface Session {
  readonly cluster: Cluster;
  readonly router: RunningRouter;
}

/**
 * Starts the cluster and the router before the file's tests and stops them after; `options` (called
 * in beforeAll: it may prepare data) says which cluster, by default the generated data on SHARDS.
 */
export function useSession(options: () => StartClusterOptions | Promise<StartClusterOptions> = () => ({ shards: SHARDS })): Session {
  const session = {} as { cluster: Cluster; router: RunningRouter };
  beforeAll(async () => {
    session.cluster = await startCluster(await options());
    const mapFile = path.join(session.cluster.dataDir, 'shards.json');
    await writeShardMap(mapFile, session.cluster.shards);
    session.router = await startRouter(mapFile);
  });
  afterAll(async () => {
    await session.router?.stop();
    await session.cluster?.stop();
  });
  return session;
}

export interface TimeRange { readonly start: number; readonly end: number; readonly step: number }

export function rangeParams(range: TimeRange): Record<string, string> {
  return { start: String(range.start), end: String(range.end), step: String(range.step) };
}

/** Whether the answer's series order is meaningful: an instant query whose result is sorted. */
export function isSorted(query: string): boolean {
  let root;
  try {
    root = parsePromQL(query);
  } catch {
    return false; // A query Prometheus refuses: the answers are errors, compared as such.
  }
  return root.kind === 'call' && ['sort', 'sort_desc'].includes(root.name);
}

/** Judges a router answer against the oracle's; the default demands the same answer. */
export type Judge = (answer: ApiAnswer, oracle: ApiAnswer, ordered: boolean, what: string) => void;

const sameAnswer: Judge = (answer, oracle, ordered, what) => expect(diffAnswers(answer, oracle, ordered), what).toBeNull();

/** Sends the query as an instant query at EVAL_TIME and a range query over `range`, by GET and POST. */
export async function expectSameAsOracle(session: Session, query: string, range: TimeRange = RANGE, judge = sameAnswer): Promise<void> {
  const cases: { path: string; params: Record<string, string>; ordered: boolean }[] = [
    { path: '/api/v1/query', params: { query, time: String(EVAL_TIME) }, ordered: isSorted(query) },
    { path: '/api/v1/query_range', params: { query, ...rangeParams(range) }, ordered: false },
  ];
  for (const c of cases) {
    const oracle = await callApi(session.cluster.globalUrl, c.path, c.params, 'POST');
    for (const method of ['GET', 'POST'] as const) {
      judge(await callApi(session.router.url, c.path, c.params, method), oracle, c.ordered, `${method} ${c.path} ${query}`);
    }
  }
}
