// Prometheus v2.42.0's own PromQL test scripts, end to end: each epoch's series split over three
// collectors (no shard label) and all on a global Prometheus (with `cluster`), the router started with
// the real CLI in front of the collectors. Every eval runs as an instant query at its time and as a
// range query around it; the router's answer must be the global oracle's and, with the shard label
// removed, the script's own expectation — except for the differences listed in known-differences.ts.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from '../e2e/compare.ts';
import { startCluster, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';
import { callApi, startRouter, type RunningRouter } from '../e2e/router.ts';
import { constructsOf, dataEpochs, END_TO_END_CONSTRUCTS, evalCases, loadScripts, type EvalCase } from './cases.ts';
import { groupEpochs, hasStaleness, prepareDataSet, SHARD_LABEL, SHARDS, splitSeries } from './datasets.ts';
import { remoteWrite } from './remote-write.ts';
import { diffFromScript } from './expected.ts';
import { KNOWN_DIFFERENCES, type DifferenceCategory, type KnownDifference, type Mode, type Oracle } from './known-differences.ts';

/**
 * The range query around an eval at t: from t-5m to t+5m, one step a minute. The eval time is a step
 * (the middle one, like upstream's own range check of t±1m), so the script's value can be checked in
 * range mode too; a minute is the subquery step the scripts assume, and 11 steps over 10 minutes cross
 * the 5-minute lookback on both sides of every sample the scripts load at 5m intervals.
 */
const RANGE_HALF_WIDTH_MS = 5 * 60_000;
const RANGE_STEP_MS = 60_000;

const scripts = loadScripts('v2.42.0');
const epochs = scripts.flatMap((s) => dataEpochs(s.file, s.commands));
const allCases = scripts.flatMap((s) => evalCases(s.file, s.commands));

/** Evals that cannot run end to end, with the reason (none of v2.42.0's constructs today). */
const notRunnable = new Map<EvalCase, string>();
for (const c of allCases) {
  const missing = constructsOf(c).filter((k) => !END_TO_END_CONSTRUCTS.has(k));
  if (missing.length > 0) notRunnable.set(c, `not run end to end: ${missing.join(', ')}`);
}
/**
 * Data sets: backfilled blocks, except for epochs with staleness markers, which promtool cannot write
 * (OpenMetrics's NaN is an ordinary NaN): those go to servers started empty, by remote write.
 */
const sets = [
  ...groupEpochs(epochs.filter((e) => !hasStaleness(e.series))).map((set) => ({ set, remote: false })),
  ...groupEpochs(epochs.filter((e) => hasStaleness(e.series))).map((set) => ({ set, remote: true })),
];

const known = new Map<string, { category: DifferenceCategory; difference: KnownDifference; seen: boolean }>();
for (const category of KNOWN_DIFFERENCES) {
  for (const difference of category.differences) known.set(`${difference.file}:${difference.line}`, { category, difference, seen: false });
}

const tally = { evals: 0, evalsIdentical: 0, queries: 0, identical: 0, known: new Map<string, number>() };

afterAll(() => {
  const reasons = [...new Set(notRunnable.values())];
  const knownTotal = [...tally.known.values()].reduce((a, b) => a + b, 0);
  console.log([
    `promqltest v2.42.0: ${allCases.length} evals, ${tally.queries} queries (instant + range) in ${sets.length} data sets`,
    `  identical to the global Prometheus and the script: ${tally.identical} queries (${tally.evalsIdentical} of ${tally.evals} runnable evals in both modes)`,
    `  known differences: ${knownTotal}`,
    ...KNOWN_DIFFERENCES.filter((c) => tally.known.has(c.reason)).map((c) => `    ${tally.known.get(c.reason)} (${c.kind}) ${c.reason}`),
    `  not runnable: ${notRunnable.size} evals (${2 * notRunnable.size} queries)`,
    ...reasons.map((r) => `    ${[...notRunnable.values()].filter((x) => x === r).length} ${r}`),
  ].join('\n'));
});

interface Answers { router: ApiAnswer; global: ApiAnswer; timeMs: number }

async function ask(c: EvalCase, mode: Mode, router: string, global: string): Promise<Answers> {
  const t = c.query.type === 'instant' ? c.query.timeMs : NaN;
  const params: Record<string, string> = mode === 'instant'
    ? { query: c.expr, time: String(t / 1000) }
    : { query: c.expr, start: String((t - RANGE_HALF_WIDTH_MS) / 1000), end: String((t + RANGE_HALF_WIDTH_MS) / 1000), step: String(RANGE_STEP_MS / 1000) };
  const apiPath = mode === 'instant' ? '/api/v1/query' : '/api/v1/query_range';
  const [routerAnswer, globalAnswer] = await Promise.all([callApi(router, apiPath, params, 'POST'), callApi(global, apiPath, params, 'POST')]);
  return { router: routerAnswer, global: globalAnswer, timeMs: t };
}

for (const [index, { set, remote }] of sets.entries()) {
  const cases = allCases.filter((c) => !notRunnable.has(c) && set.epochs.some((epoch) => epoch.evals.includes(c.command)));
  const name = `data set ${index}${remote ? ' by remote write' : ''} (${set.epochs.map((e) => `${e.file}:${e.line}`).join(' ')})`;
  describe.concurrent(name, () => {
    const env = {} as { cluster: Cluster; router: RunningRouter };
    beforeAll(async () => {
      const data = await prepareDataSet(remote ? { ...set, series: [] } : set);
      env.cluster = await startCluster({ shards: SHARDS, data, readyQuery: null, extraArgs: remote ? ['--web.enable-remote-write-receiver'] : [] });
      if (remote) {
        const servers: Record<string, string> = { ...env.cluster.shards, global: env.cluster.globalUrl };
        await Promise.all(Object.entries(splitSeries(set.series)).map(([name, series]) => remoteWrite(servers[name]!, series)));
      }
      const mapFile = path.join(env.cluster.dataDir, 'shards.json');
      await writeShardMap(mapFile, env.cluster.shards, SHARD_LABEL);
      env.router = await startRouter(mapFile);
    });
    afterAll(async () => {
      await env.router?.stop();
      await env.cluster?.stop();
    });

    it.each(cases)('$file:$line $expr', async (c) => {
      const entry = known.get(`${c.file}:${c.line}`);
      if (entry) {
        entry.seen = true;
        expect(entry.difference.expr, 'the known difference names this line\'s expression').toBe(c.expr);
      }
      const differs: Record<Mode, Oracle[]> = { instant: [], range: [] };
      const listed: Record<Mode, Oracle[]> = { instant: [], range: [] };
      const details: string[] = [];
      for (const mode of ['instant', 'range'] as const) {
        const a = await ask(c, mode, env.router.url, env.cluster.globalUrl);
        const ordered = c.ordered && mode === 'instant';
        const vsGlobal = diffAnswers(a.router, a.global, ordered);
        const vsScript = diffFromScript(a.router, c, a.timeMs, ordered, SHARD_LABEL);
        if (vsGlobal) differs[mode].push('global');
        if (vsScript) differs[mode].push('script');
        if (entry?.difference.modes.includes(mode)) listed[mode] = entry.difference.oracles;
        details.push(`${mode}: ${[vsGlobal && `vs global: ${vsGlobal}`, vsScript && `vs script: ${vsScript}`].filter(Boolean).join('; ') || 'identical'}`);
        if (entry?.category.kind === 'split' && listed[mode].length > 0) {
          expect(diffFromScript(a.global, c, a.timeMs, ordered, SHARD_LABEL), `${mode}: the global differs from the script too`).not.toBeNull();
        }
        tally.queries++;
        if (listed[mode].length === 0) tally.identical++;
        else tally.known.set(entry!.category.reason, (tally.known.get(entry!.category.reason) ?? 0) + 1);
      }
      tally.evals++;
      if (!entry) tally.evalsIdentical++;
      expect(differs, `${c.file}:${c.line} ${c.expr}\n${details.join('\n')}`).toEqual(listed);
    });
  });
}

describe('known differences', () => {
  it('every listed difference is an eval of the scripts that ran', () => {
    expect([...known.entries()].filter(([, e]) => !e.seen).map(([k]) => k)).toEqual([]);
  });
});
