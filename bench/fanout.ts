// Fan-out at scale (issue 11): `prome-route serve` over 8, 32 and 128 simulated collectors on loopback
// (bench/sim-collectors.mjs, one process), each answering what a real collector answered, a fixed
// delay after the request. The router's wall time for one query against the slowest shard alone: the
// requests the router sent that shard, replayed to it directly. Shards that stand for the same real
// collector answer the same bytes after the same delay, so the slowest shard is one of the first n
// (n real collectors); those are replayed. Router queries and replays alternate, run by run.
import http from 'node:http';
import path from 'node:path';
import { EVAL_TIME } from '../test/e2e/harness/generate.ts';
import { writeShardMap } from '../test/e2e/harness/prometheus.ts';
import { DEFAULT_SHARD_CONCURRENCY } from '../lib/api/router.ts';
import { startRouterCli, startSimCollectors } from './servers.ts';
import { cpuMs, exchange, LoadSampler, Markdown, median, timed, type BenchContext, type HttpCall } from './support.ts';

const RUNS = Number(process.env.BENCH_FANOUT_RUNS ?? 25);
const DELAY_MS = Number(process.env.BENCH_FANOUT_DELAY_MS ?? 20);
const SHARD_COUNTS = (process.env.BENCH_FANOUT_SHARDS ?? '8,32,128').split(',').map(Number);
/** Issue 11, item 2: at 128 shards, the router within the slowest shard + 10 ms. */
export const FANOUT_TARGET = { shards: 128, addedMs: 10 };

const QUERIES = [
  { kind: 'cross-shard', query: 'sum by (mode) (rate(node_cpu_seconds_total[5m]))' },
  // One series per node and shard, as `up` has one per target.
  { kind: 'union', query: 'node_load1' },
];

interface Run { routerMs: number; slowestMs: number; routerCpuMs: number; simCpuMs: number }

interface Stats { recorded: number; replayed: number }

/** A router to time: an answer to one query, and the CPU (ms) it has used so far. */
interface Variant { name: string; ask: () => Promise<void>; cpuMs: () => number }

export async function fanout(ctx: BenchContext): Promise<string> {
  const upstreams = Object.values(ctx.shards);
  const sim = await startSimCollectors(upstreams, Math.max(...SHARD_COUNTS), DELAY_MS, ctx.workDir);
  const agent = new http.Agent({ keepAlive: true });
  const machine = new LoadSampler();
  const control = async <T>(p: string, method = 'GET') => (await (await fetch(`${sim.url}${p}`, { method })).json()) as T;
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  try {
    for (const n of SHARD_COUNTS) {
      const shards = Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${String(i).padStart(3, '0')}`, sim.shardUrls[i]!]));
      const mapFile = path.join(ctx.workDir, `fanout-${n}.json`);
      await writeShardMap(mapFile, shards);
      const serve = await startRouterCli(mapFile, ctx.workDir, `router-fanout-${n}`);
      try {
        for (const { kind, query } of QUERIES) {
          machine.sample();
          const apiPath = `/api/v1/query?${new URLSearchParams({ query, time: String(EVAL_TIME) })}`;
          const fail = (status: number, text: string) => new Error(`${query} over ${n} shards: HTTP ${status} ${text}`);
          const variants: Variant[] = [
            {
              name: `serve (at most ${DEFAULT_SHARD_CONCURRENCY} requests at once to each shard, the default)`,
              ask: async () => {
                const answer = await exchange(agent, serve.url, { method: 'GET', path: apiPath });
                if (answer.status !== 200) throw fail(answer.status, answer.head);
              },
              cpuMs: () => cpuMs(serve.proc.pid),
            },
          ];
          // The first query records the collectors' answers, the second shows the router warm.
          await control('/reset', 'POST');
          for (const v of variants) for (let i = 0; i < 2; i++) await v.ask();
          const replays = await Promise.all(upstreams.slice(0, n).map((_, i) => control<HttpCall[]>(`/requests?shard=${i}`)));
          const before = await control<Stats>('/stats');
          const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]));
          for (let i = 0; i < RUNS; i++) {
            for (const v of variants) {
              const [router0, sim0] = [v.cpuMs(), cpuMs(sim.proc.pid)];
              const routerMs = await timed(v.ask);
              const [routerCpuMs, simCpuMs] = [v.cpuMs() - router0, cpuMs(sim.proc.pid) - sim0];
              const alone: number[] = [];
              for (const [shard, calls] of replays.entries()) {
                alone.push(await timed(() => Promise.all(calls.map((c) => exchange(agent, sim.shardUrls[shard]!, c)))));
              }
              runs.get(v)!.push({ routerMs, slowestMs: Math.max(...alone), routerCpuMs, simCpuMs });
            }
          }
          const after = await control<Stats>('/stats');
          if (after.recorded !== before.recorded) throw new Error(`${query} over ${n} shards: the router asked something not recorded during the warm-up`);
          for (const v of variants) {
            const m = (f: (r: Run) => number) => median(runs.get(v)!.map(f));
            // A run takes a few clock ticks of CPU at most: the total over the runs, per run.
            const mean = (f: (r: Run) => number) => runs.get(v)!.reduce((sum, r) => sum + f(r), 0) / RUNS;
            const added = m((r) => r.routerMs - r.slowestMs);
            rows.push([n, kind, `\`${query}\``, v.name, [...new Set(replays.map((calls) => calls.length))].join(', '), m((r) => r.routerMs).toFixed(1),
              m((r) => r.slowestMs).toFixed(1), v === variants[0] ? `**${added.toFixed(1)}**` : added.toFixed(1), `${m((r) => r.routerMs / r.slowestMs).toFixed(2)}x`,
              mean((r) => r.routerCpuMs).toFixed(1), mean((r) => r.simCpuMs).toFixed(1)]);
            if (n === FANOUT_TARGET.shards && v === variants[0]) {
              verdicts.push(`${kind} +${added.toFixed(1)} ms (${added <= FANOUT_TARGET.addedMs ? 'met' : 'missed'})`);
            }
          }
        }
      } finally {
        await serve.stop();
      }
    }
  } finally {
    agent.destroy();
    await sim.stop();
  }
  const md = new Markdown();
  md.text(`fan-out: \`prome-route serve\` over simulated collectors (bench/sim-collectors.mjs: one process, one loopback port per shard, `
    + `answering the recorded answers of the ${upstreams.length} real collectors round-robin, ${DELAY_MS} ms after each request); `
    + `instant queries at EVAL_TIME, ${RUNS} runs each (router query, then the requests it sent each distinct shard replayed to that shard alone), medians. `
    + 'Router CPU from /proc; CPU figures are the total over the runs, per run. '
    + `${machine.summary()}.`);
  md.table(['shards', 'query', 'expression', 'router', 'requests per shard', 'router (ms)', 'slowest shard alone (ms)', 'router − slowest (ms)', 'ratio',
    'router CPU per query (ms)', 'simulated collectors\' CPU per query (ms)'], rows);
  md.text(`target (issue 11): ${FANOUT_TARGET.shards} shards within the slowest shard + ${FANOUT_TARGET.addedMs} ms: ${verdicts.length > 0 ? verdicts.join(', ') : `not measured (BENCH_FANOUT_SHARDS lacks ${FANOUT_TARGET.shards})`}.`);
  return md.toString();
}
