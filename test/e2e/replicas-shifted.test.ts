// An HA pair whose replicas scrape the same targets 3 s apart, each down for a different half hour:
// the router merges them by the dedup rule of lib/replicas/dedup.ts, and its answers must be those of
// a Prometheus holding what the rule says the merged series are, built here from the rule's words:
//   - the early replica's samples up to its hole (the replica with the earliest sample comes first);
//   - across that hole (longer than 1.5 scrape intervals), the late replica's samples from the first
//     one more than half an interval after the last sample taken, up to its own hole;
//   - across that one, the early replica's again, from the first more than half an interval on.
// Series with a gap of their own are left out of this data set: the rule's switches at those gaps are
// the unit tests' (test/replicas/dedup.test.ts).
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers } from './compare.ts';
import { loadComplianceQueries, loadDashboardExprs } from './harness/corpus.ts';
import { RANGE, SCRAPE_INTERVAL_S, SHARD_LABEL, START_S } from './harness/generate.ts';
import { prepareReplicaBlocks, serveBlocks, stored, withHole, type StoredSeries } from './harness/replicas.ts';
import type { PrometheusServer } from './harness/prometheus.ts';
import { parseLabelValues, substituteVariables } from './harness/variables.ts';
import { injectMatcher } from './inject.ts';
import { startRouter, type RunningRouter } from './router.ts';
import { expectSameAsOracle, type Judge, type Session } from './session.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';

const MINUTE = 60_000;
const START_MS = START_S * 1000;
const INTERVAL_MS = SCRAPE_INTERVAL_S * 1000;
const SHIFT_MS = 3_000;
const EARLY_HOLE = [START_MS + 60 * MINUTE, START_MS + 90 * MINUTE] as const;
const LATE_HOLE = [START_MS + 92 * MINUTE, START_MS + 122 * MINUTE] as const;

/** The merged series as the rule describes it, for replicas without gaps of their own but the holes. */
function byTheRule(early: StoredSeries, late: StoredSeries): StoredSeries {
  const lastBefore = (s: StoredSeries, t: number) => Math.max(...s.samples.filter(([ts]) => ts < t).map(([ts]) => ts));
  const switchToLate = lastBefore(early, EARLY_HOLE[0]);
  const switchToEarly = lastBefore(late, LATE_HOLE[0]);
  return {
    ...early,
    samples: [
      ...early.samples.filter(([t]) => t <= switchToLate),
      ...late.samples.filter(([t]) => t > switchToLate + INTERVAL_MS / 2 && t <= switchToEarly),
      ...early.samples.filter(([t]) => t > switchToEarly + INTERVAL_MS / 2),
    ],
  };
}

const servers: PrometheusServer[] = [];
const session = {} as Session;
let runDir = '';
let router: RunningRouter | undefined;
const tally = { matched: 0, refused: 0 };

beforeAll(async () => {
  const blocks = await prepareReplicaBlocks('shifted-1', 'a', (series) => {
    const whole = series.filter((s) => s.values.every((v) => v !== undefined));
    const early = whole.map((s) => withHole(stored(s), ...EARLY_HOLE));
    const late = whole.map((s) => withHole(stored(s, SHIFT_MS), ...LATE_HOLE));
    return { early, late, reference: early.map((s, i) => byTheRule(s, late[i]!)) };
  }, ['reference']);
  runDir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-shifted-'));
  const [early, late, reference] = await Promise.all(['early', 'late', 'reference'].map((name) => serveBlocks(blocks[name]!, runDir, name)));
  servers.push(early!, late!, reference!);
  const file = path.join(runDir, 'shards.json');
  await writeFile(file, JSON.stringify({ shardLabel: SHARD_LABEL, shards: { a: { urls: [early!.url, late!.url], replicas: 'merge' } } }));
  router = await startRouter(file);
  Object.assign(session, { cluster: { globalUrl: reference!.url }, router });
}, 300_000);

afterAll(async () => {
  console.log(`replicas-shifted: ${tally.matched} answers identical to the reference, ${tally.refused} refused with 422`);
  await router?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  if (runDir !== '') await rm(runDir, { recursive: true, force: true });
});

const judge: Judge = (answer, oracle, ordered, what) => {
  if (answer.httpStatus === 422 && /cannot evaluate|not supported/.test(answer.body.error ?? '') && oracle.body.status === 'success') {
    tally.refused++;
    return;
  }
  expect(diffAnswers(answer, oracle, ordered), what).toBeNull();
  tally.matched++;
};

describe.concurrent('compliance queries on the shifted pair', () => {
  it.each(loadComplianceQueries())('#$index $query', async ({ query }) => {
    await expectSameAsOracle(session, injectMatcher(query, 'cluster', 'cluster="a"'), RANGE, judge);
  });
});

describe.concurrent('dashboard expressions on the shifted pair', () => {
  it.each(loadDashboardExprs().filter((expr) => parseLabelValues(expr) === null))('%s', async (expr) => {
    await expectSameAsOracle(session, injectMatcher(substituteVariables(expr, 'a'), 'cluster', 'cluster="a"'), RANGE, judge);
  });
});

describe('the holes are inside the compared ranges', () => {
  it('the query range crosses the switch back to the early replica', () => {
    expect(RANGE.start * 1000).toBeLessThan(LATE_HOLE[0]);
    expect(RANGE.end * 1000).toBeGreaterThan(LATE_HOLE[0]);
  });
});
