// Issue 11's dashboard load (bench/dashboard-load.ts) through `prome-route serve` (the real CLI) and
// straight to the server holding the same data: shard a's collector for one cluster, the global
// Prometheus for two and for all clusters. Rounds alternate router and direct loads (which goes first
// alternates too); every load reads the CPU time of every process that could take part (router,
// collectors, global) from /proc, so each side's figure is the CPU of its own processes during its
// own load and the others' show the noise floor. Medians over rounds; ratios within a round, then
// their median.
//
// BENCH_PROFILE=one/two/all (1: all): afterwards, a router with `node --cpu-prof` serves that load; the
// profile is written under BENCH_PROFILE_DIR and its top self-time functions during the measured
// loads (warm-up and start-up left out) are printed.
import { dashboardCases, directUrl, IN_FLIGHT, runLoad, WINDOW, type DashboardCase, type LoadResult } from './dashboard-load.ts';
import { profileRouter } from './profile.ts';
import { startRouterCli } from './servers.ts';
import { cpuDuring, LoadSampler, Markdown, median, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 5);
/** The load to profile: BENCH_PROFILE=1 (all clusters), or the load's first word (one, two, all). */
const PROFILE = process.env.BENCH_PROFILE === '1' ? 'all' : process.env.BENCH_PROFILE ?? null;
const PROFILE_LOADS = Number(process.env.BENCH_PROFILE_LOADS ?? 3);

/** Issue 11, item 2: router wall and router CPU against the direct server's, per load. */
export const DASHBOARD_TARGETS: Record<string, { wall: number; cpu: number }> = {
  'one cluster': { wall: 1.2, cpu: 0.3 },
  'two clusters': { wall: 1.5, cpu: 0.5 },
  'all clusters': { wall: 1.5, cpu: 0.5 },
};

interface Load extends LoadResult {
  /** CPU ms of each process during this load, by name (`router`, `a`, `b`, `c`, `global`). */
  readonly cpu: Readonly<Record<string, number>>;
  /** The kernel's part of `cpu`, per process. */
  readonly kernel: Readonly<Record<string, number>>;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const times = (x: number) => `${x.toFixed(2)}x`;
const verdict = (x: number, target: number) => (x <= target ? 'met' : 'missed');

export async function dashboards(ctx: BenchContext): Promise<string> {
  const cases = dashboardCases();
  const shardNames = Object.keys(ctx.shards);
  const router = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-dashboards');
  const machine = new LoadSampler();
  const results = new Map<DashboardCase, { router: Load[]; direct: Load[] }>(cases.map((c) => [c, { router: [], direct: [] }]));
  try {
    const pids: Record<string, number> = { router: router.proc.pid, ...ctx.pids };
    const names = Object.keys(pids);
    const measure = async (url: string, queries: readonly string[]): Promise<Load> => {
      const { result, cpuMs, systemMs } = await cpuDuring(names.map((n) => pids[n]!), () => runLoad(url, queries));
      return { ...result, cpu: Object.fromEntries(names.map((n, i) => [n, cpuMs[i]!])), kernel: Object.fromEntries(names.map((n, i) => [n, systemMs[i]!])) };
    };
    const sides = (c: DashboardCase) => ({
      router: () => measure(router.url, c.routerQueries),
      direct: () => measure(directUrl(c, ctx.shards, ctx.globalUrl), c.directQueries),
    });
    for (const c of cases) {
      const warm = sides(c);
      await warm.router(); // JIT, connections, the router's plan cache: a dashboard refreshed, not a cold start
      await warm.direct();
    }
    for (let round = 0; round < ROUNDS; round++) {
      machine.sample();
      for (const c of cases) {
        const run = sides(c);
        const order = round % 2 === 0 ? (['router', 'direct'] as const) : (['direct', 'router'] as const);
        for (const side of order) results.get(c)![side].push(await run[side]());
      }
    }
    machine.sample();
  } finally {
    await router.stop();
  }

  const md = new Markdown();
  const queries = cases[0]!.routerQueries.length;
  md.text(
    `dashboards: the ${queries} PromQL expressions of the three dashboards in ../shared/corpus/dashboards (label_values() variable queries left out), `
      + `variables filled in as test/e2e does, each a query_range over 4 h at ${WINDOW.step} s (${(WINDOW.end - WINDOW.start) / WINDOW.step + 1} points; `
      + `the data fills the last 2 h), POST, ${IN_FLIGHT} in flight; \`prome-route serve\` against ${shardNames.length} collectors, `
      + `direct = the same load on the server holding the same data. ${ROUNDS} rounds, router and direct alternating (and which goes first), after one warm-up `
      + 'load of each; medians; ratios taken within each round, then their median. CPU = utime + stime from /proc/<pid>/stat of each process during the load. '
      + `${machine.summary()}.`,
  );
  const cpuOf = (l: Load, names: readonly string[]) => names.reduce((sum, n) => sum + l.cpu[n]!, 0);
  /** CPU of the processes that had no part in a load: the noise floor of the machine. */
  const idleCpu = (l: Load, involved: readonly string[]) => cpuOf(l, Object.keys(l.cpu).filter((n) => !involved.includes(n)));
  const routerSide = ['router', ...shardNames];
  const summary = cases.map((c) => {
    const { router: r, direct: d } = results.get(c)!;
    const perRound = (f: (router: Load, direct: Load) => number) => median(r.map((l, i) => f(l, d[i]!)));
    const wall = perRound((x, y) => x.wallMs / y.wallMs);
    const cpu = perRound((x, y) => x.cpu.router! / y.cpu[c.direct]!);
    return {
      c, wall, cpu,
      row: [
        c.name, `${c.matcher}; vs ${c.directName}`,
        seconds(median(r.map((l) => l.wallMs))), seconds(median(d.map((l) => l.wallMs))), `**${times(wall)}**`,
        seconds(median(r.map((l) => l.cpu.router!))),
        `${seconds(median(r.map((l) => l.kernel.router!)))} / ${seconds(median(d.map((l) => l.kernel[c.direct]!)))}`,
        shardNames.map((s) => seconds(median(r.map((l) => l.cpu[s]!)))).join(' / '),
        seconds(median(d.map((l) => l.cpu[c.direct]!))),
        `**${times(cpu)}**`,
        times(perRound((x, y) => cpuOf(x, routerSide) / y.cpu[c.direct]!)),
        `${(median(r.map((l) => l.bytes)) / 1e6).toFixed(1)} / ${(median(d.map((l) => l.bytes)) / 1e6).toFixed(1)}`,
      ],
      rounds: r.map((l, i) => [i + 1, c.name, seconds(l.wallMs), seconds(d[i]!.wallMs), seconds(l.cpu.router!), seconds(cpuOf(l, shardNames)),
        seconds(d[i]!.cpu[c.direct]!), seconds(idleCpu(l, routerSide)), seconds(idleCpu(d[i]!, [c.direct]))]),
    };
  });
  md.table(['load', 'queries', 'router wall (s)', 'direct wall (s)', 'router wall / direct', 'router CPU (s)', 'of which in the kernel, router / direct server (s)',
    `collectors' CPU during the router's load, ${shardNames.join(' / ')} (s)`, 'direct server CPU (s)', 'router CPU / direct server CPU',
    '(router + collectors) CPU / direct server CPU', 'answer MB, router / direct'], summary.map((s) => s.row));
  md.text('per round (CPU in s; "idle" = the processes outside the load: the global server during the router\'s, all but the direct server during the direct one):');
  md.table(['round', 'load', 'router wall', 'direct wall', 'router CPU', 'collectors CPU', 'direct server CPU', 'idle CPU, router load', 'idle CPU, direct load'],
    [...summary.flatMap((s) => s.rounds)].sort((x, y) => Number(x[0]) - Number(y[0])));
  const failures = cases.flatMap((c) => [...results.get(c)!.router, ...results.get(c)!.direct].flatMap((l) => l.failures));
  if (failures.length > 0) md.text(`**${failures.length} queries failed** (counted in the wall time as answered):`, ...[...new Set(failures)].map((f) => `- ${f}`));
  md.text(`target (issue 11): ${summary.map(({ c, wall, cpu }) => {
    const t = DASHBOARD_TARGETS[c.name]!;
    return `${c.name}: wall ${times(wall)} (<= ${t.wall}x: ${verdict(wall, t.wall)}), router CPU ${times(cpu)} (<= ${t.cpu}x: ${verdict(cpu, t.cpu)})`;
  }).join('; ')}.`);
  const profiled = PROFILE === null ? undefined : cases.find((c) => c.name.startsWith(`${PROFILE} `));
  if (profiled !== undefined) md.text(...(await profileLoad(ctx, profiled)));
  return md.toString();
}

/** A router under `--cpu-prof` serving one of the loads (bench/profile.ts's profileRouter). */
function profileLoad(ctx: BenchContext, c: DashboardCase): Promise<string[]> {
  return profileRouter(ctx, {
    title: `BENCH_PROFILE=${PROFILE}: the ${c.name} load ${PROFILE_LOADS} times after one warm-up load`,
    serveArgs: ['--cache', 'off'],
    warmUp: (url) => runLoad(url, c.routerQueries),
    measured: async (url) => {
      for (let i = 0; i < PROFILE_LOADS; i++) await runLoad(url, c.routerQueries);
    },
  });
}
