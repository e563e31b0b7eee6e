// Issue 11's dashboard loads (bench/dashboard-load.ts, the router's queries) through the bundled AWS
// handler, dist/aws/index.mjs: one warm instance (bench/handler-runner.mjs) invoked one event at a
// time with API Gateway HTTP API (payload 2.0) events built from the recorded Grafana POST in
// test/functions/events, with and without gzip; and the same queries one at a time through
// `prome-route serve`. Handler CPU = process.cpuUsage() around each invocation, summed over the load;
// serve's = its utime + stime from /proc over the load. Rounds rotate the three (handler with gzip,
// handler without, serve); medians over rounds, ratios within a round.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dashboardCases, rangeForm, runLoad, type DashboardCase } from './dashboard-load.ts';
import { AWS_BUNDLE, eventsFor, GRAFANA_ACCEPT_ENCODING as GZIP, runHandlerLoad } from './handler-load.ts';
import { startHandlerRunner, startRouterCli } from './servers.ts';
import { cpuDuring, LoadSampler, Markdown, median, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_HANDLER_ROUNDS ?? 3);
/** Issue 11, item 2: a function handler's CPU per invocation within 1.2x of `serve`'s, gzip included. */
export const HANDLER_TARGET = 1.2;

export async function handlerCpu(ctx: BenchContext): Promise<string> {
  const cases = dashboardCases();
  const eventsFile = path.join(ctx.workDir, 'handler-events.json');
  await writeFile(eventsFile, JSON.stringify(Object.fromEntries(cases.map((c) => [c.name, eventsFor(c.routerQueries.map((q) => rangeForm(q)))]))));
  const runner = await startHandlerRunner(AWS_BUNDLE, eventsFile, ctx.shardMapFile, ctx.workDir);
  const serve = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-handler-cpu');
  const machine = new LoadSampler();
  type Variant = 'gzip' | 'identity' | 'serve';
  const variants: Variant[] = ['gzip', 'identity', 'serve'];
  /** CPU ms per load; for the handler also the runner process's whole CPU (/proc) over the load. */
  const results = new Map(cases.map((c) => [c, Object.fromEntries(variants.map((v) => [v, [] as { cpuMs: number; processMs: number }[]])) as Record<Variant, { cpuMs: number; processMs: number }[]>]));
  const failures: string[] = [];
  try {
    const invoke = async (c: DashboardCase, variant: Variant) => {
      if (variant === 'serve') {
        const { result, cpuMs: [cpu] } = await cpuDuring([serve.proc.pid], () => runLoad(serve.url, c.routerQueries, 1));
        failures.push(...result.failures);
        return { cpuMs: cpu!, processMs: cpu! };
      }
      const { result, cpuMs: [processMs] } = await cpuDuring([runner.proc.pid], () => runHandlerLoad(runner, c.name, variant === 'gzip' ? GZIP : ''));
      failures.push(...result.failures.map((f) => `handler (${variant}), ${c.name}: ${f}`));
      return { cpuMs: result.cpuUs / 1000, processMs: processMs! };
    };
    for (const c of cases) for (const v of variants) await invoke(c, v); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      machine.sample();
      const order = [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)];
      for (const c of cases) for (const v of order) results.get(c)![v].push(await invoke(c, v));
    }
    machine.sample();
  } finally {
    await Promise.all([runner.stop(), serve.stop()]);
  }

  const md = new Markdown();
  md.text(
    `handler CPU: the router's queries of the dashboard loads above (${cases[0]!.routerQueries.length} each), one at a time, through the bundled AWS handler `
      + '(`dist/aws/index.mjs`, one warm instance in a `node` process of its own, bench/handler-runner.mjs) with API Gateway HTTP API events '
      + `(the recorded Grafana POST of test/functions/events, \`accept-encoding: ${GZIP}\` or none), and through \`prome-route serve\` (which does not compress). `
      + 'Handler CPU = process.cpuUsage() around each invocation, summed over the load (as the function uses its vCPU share); '
      + `in brackets the runner process's whole CPU from /proc over the load; serve's CPU from /proc. ${ROUNDS} rounds, order rotating, after a warm-up load of each; medians, `
      + `ratios within a round, then their median. ${machine.summary()}.`,
  );
  const rows = cases.map((c) => {
    const r = results.get(c)!;
    const m = (v: Variant, f: (x: { cpuMs: number; processMs: number }) => number = (x) => x.cpuMs) => median(r[v].map(f));
    const ratio = (v: Variant) => median(r[v].map((x, i) => x.cpuMs / r.serve[i]!.cpuMs));
    const perQuery = (ms: number) => (ms / c.routerQueries.length).toFixed(2);
    return {
      c, gzipRatio: ratio('gzip'), identityRatio: ratio('identity'),
      row: [c.name, `${(m('gzip') / 1000).toFixed(2)} (${(m('gzip', (x) => x.processMs) / 1000).toFixed(2)})`, perQuery(m('gzip')),
        `${(m('identity') / 1000).toFixed(2)} (${(m('identity', (x) => x.processMs) / 1000).toFixed(2)})`, perQuery(m('identity')),
        (m('serve') / 1000).toFixed(2), perQuery(m('serve')), `**${ratio('gzip').toFixed(2)}x**`, `${ratio('identity').toFixed(2)}x`],
    };
  });
  md.table(['load', 'handler CPU, gzip (s)', 'per query (ms)', 'handler CPU, no gzip (s)', 'per query (ms)', 'serve CPU (s)', 'per query (ms)',
    'handler (gzip) / serve', 'handler (no gzip) / serve'], rows.map((r) => r.row));
  if (failures.length > 0) md.text(`**${failures.length} queries failed**:`, ...[...new Set(failures)].map((f) => `- ${f}`));
  md.text(`target (issue 11): handler CPU within ${HANDLER_TARGET}x of serve's, gzip included: ${rows.map((r) =>
    `${r.c.name} ${r.gzipRatio.toFixed(2)}x (${r.gzipRatio <= HANDLER_TARGET ? 'met' : 'missed'})`).join(', ')}.`);
  return md.toString();
}
