// Issue 10, item 6: gzip must cost a small fraction of the answer time (reported: a 5.6 MB answer took
// 2.5-4.0 s with gzip against 0.15-0.18 s without). Large answers of about 5 MB (under Lambda's 6 MiB
// uncompressed) on both paths that stream an answer through in many small pieces: one shard's (the
// label put into its collector's answer) and the union of every shard's. Each through the bundled AWS
// handler (one warm instance, bench/handler-runner.mjs) with Grafana's `accept-encoding: gzip, deflate,
// br` and with none, alternating; per invocation its wall time and its CPU (process.cpuUsage(): every
// thread of the process, zlib's included); medians, and the ratios within a round.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { END_S, START_S } from '../test/e2e/harness/generate.ts';
import { AWS_BUNDLE, eventsFor, GRAFANA_ACCEPT_ENCODING, runHandlerLoad, type RunnerAnswer } from './handler-load.ts';
import { startHandlerRunner } from './servers.ts';
import { LoadSampler, Markdown, mb, median, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_GZIP_ROUNDS ?? 15);
/** Every series over the whole dataset (2 h), the step making each answer about 5 MB. */
const CASES = [
  { name: 'one shard', query: '{__name__=~".+", cluster="a"}', step: 30 },
  { name: 'all shards', query: '{__name__=~".+"}', step: 120 },
] as const;
/** Gzip may add at most this fraction to the answer's wall time (and its CPU): "a small fraction". */
export const GZIP_TARGET = 0.25;

type Variant = 'gzip' | 'identity';

export async function handlerGzip(ctx: BenchContext): Promise<string> {
  const form = (c: (typeof CASES)[number]) => new URLSearchParams({ query: c.query, start: String(START_S), end: String(END_S), step: String(c.step) }).toString();
  const eventsFile = path.join(ctx.workDir, 'handler-gzip-events.json');
  await writeFile(eventsFile, JSON.stringify(Object.fromEntries(CASES.map((c) => [c.name, eventsFor([form(c)])]))));
  const runner = await startHandlerRunner(AWS_BUNDLE, eventsFile, ctx.shardMapFile, ctx.workDir);
  const machine = new LoadSampler();
  const runs = new Map(CASES.map((c) => [c, { gzip: [] as RunnerAnswer[], identity: [] as RunnerAnswer[] }]));
  try {
    const invoke = async (c: (typeof CASES)[number], variant: Variant) => {
      const answer = await runHandlerLoad(runner, c.name, variant === 'gzip' ? GRAFANA_ACCEPT_ENCODING : '');
      if (answer.failures.length > 0) throw new Error(`handler (${c.name}, ${variant}): ${answer.failures.join('; ')}`);
      return answer;
    };
    // Warm-up: the cold start, the JIT, the collectors' caches.
    for (const c of CASES) for (const variant of ['gzip', 'identity'] as const) await invoke(c, variant);
    for (let round = 0; round < ROUNDS; round++) {
      machine.sample();
      const order = round % 2 === 0 ? (['gzip', 'identity'] as const) : (['identity', 'gzip'] as const);
      for (const c of CASES) for (const variant of order) runs.get(c)![variant].push(await invoke(c, variant));
    }
    machine.sample();
  } finally {
    await runner.stop();
  }

  const ms = (us: number) => (us / 1000).toFixed(0);
  const percent = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
  const verdict = (x: number) => (x <= GZIP_TARGET ? 'met' : 'missed');
  const md = new Markdown();
  md.text(
    `gzip: every series over the whole dataset (2 h) as a query_range through the bundled AWS handler (\`${path.relative(process.cwd(), AWS_BUNDLE)}\`, `
      + 'one warm instance in a `node` process of its own, bench/handler-runner.mjs), as an API Gateway HTTP API event (the recorded Grafana POST) '
      + `with \`accept-encoding: ${GRAFANA_ACCEPT_ENCODING}\` and with none. Wall time and CPU (process.cpuUsage(), every thread of the process) `
      + `of each invocation; ${ROUNDS} rounds after a warm-up of each, the order alternating; medians, and what gzip adds as the median `
      + `of the ratios within a round. ${machine.summary()}.`,
  );
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  for (const c of CASES) {
    const r = runs.get(c)!;
    const added = (f: (x: RunnerAnswer) => number) => median(r.gzip.map((x, i) => f(x) / f(r.identity[i]!) - 1));
    const [wallAdded, cpuAdded] = [added((x) => x.wallUs), added((x) => x.cpuUs)];
    for (const v of ['identity', 'gzip'] as const) {
      const walls = r[v].map((x) => x.wallUs);
      rows.push([c.name, `\`${c.query}\`, step ${c.step} s`, v === 'gzip' ? 'gzip' : '(none)', `${mb(r[v][0]!.bytes)}${v === 'gzip' ? ' (base64)' : ''}`,
        ms(median(walls)), `${ms(Math.min(...walls))}-${ms(Math.max(...walls))}`, ms(median(r[v].map((x) => x.cpuUs))),
        v === 'gzip' ? `**${percent(wallAdded)}**` : '', v === 'gzip' ? `**${percent(cpuAdded)}**` : '']);
    }
    verdicts.push(`${c.name}: wall ${percent(wallAdded)} (${verdict(wallAdded)}), CPU ${percent(cpuAdded)} (${verdict(cpuAdded)})`);
  }
  md.table(['answer', 'query', 'accept-encoding', 'result body', 'wall median (ms)', 'wall range (ms)', 'CPU median (ms)', 'gzip adds (wall)', 'gzip adds (CPU)'], rows);
  md.text(`target (issue 10, item 6): gzip adds at most ${percent(GZIP_TARGET)} to the answer's wall time and CPU: ${verdicts.join('; ')}.`);
  return md.toString();
}
