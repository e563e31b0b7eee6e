// Issue 14's refresh: a dashboard loaded, its window moved 30 s, loaded again, as Grafana's auto-refresh
// does. The refresh through `prome-route serve` with its results cache in memory (bounded) against the
// same refresh straight to the server holding the data: shard a's collector for one cluster, the
// global Prometheus for all clusters. The data is historical, so "now" is set at its end through the
// freshness window (--cache-freshness = age of the data's end + 600 s): the last 10 minutes of every
// window are computed again on each refresh, as they would be on a live dashboard. Each round moves the
// window on by a minute, so no refresh finds its own window stored; loads alternate which side goes
// first; CPU of every process from /proc, as bench/dashboards.ts reads it. Beside them, the floor:
// bench/replay-floor.mjs in front of the router, sending back the refresh's answers it recorded (one
// load through it first), so the least any Node server answering those bytes costs is on the page.
//
// BENCH_PROFILE=refresh: afterwards, a router under `node --cpu-prof` serves the one-cluster refreshes
// with every extent stored (the "past" setting), and its top self-time functions are printed.
import { readFile } from 'node:fs/promises';
import { END_S } from '../test/e2e/harness/generate.ts';
import { dashboardCases, directUrl, IN_FLIGHT, runLoad, WINDOW, type AnswerEncoding, type LoadResult, type Window } from './dashboard-load.ts';
import { profileRouter } from './profile.ts';
import { startRedis, type RedisServer } from '../test/e2e/harness/redis.ts';
import { startFloor, startRouterCli } from './servers.ts';
import { cpuDuring, LoadSampler, Markdown, mb, median, procStatusBytes, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_REFRESH_ROUNDS ?? 5);
/** The in-memory cache's bound for this part (the default); the loads write more than that in all, so the bound is what holds. */
const CACHE_BYTES = Number(process.env.BENCH_REFRESH_CACHE_BYTES ?? 64 * 1024 * 1024);
const REFRESH_S = 30;
/** Issue 14: the router's refresh at most this fraction of the direct server's. */
const TARGET = 0.3;
const PROFILE = process.env.BENCH_PROFILE === 'refresh';

interface Measured extends LoadResult {
  readonly cpu: Readonly<Record<string, number>>;
}

const shifted = (w: Window, s: number): Window => ({ start: w.start + s, end: w.end + s, step: w.step });
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const times = (x: number) => `${x.toFixed(2)}x`;

export async function refresh(ctx: BenchContext): Promise<string> {
  const liveFreshnessS = Math.ceil(Date.now() / 1000 - END_S) + 600;
  // As Grafana asks: its data source proxy accepts gzip, and Prometheus then compresses every answer.
  const live = await refreshes(ctx, 'live', liveFreshnessS, null, 'gzip');
  const past = await refreshes(ctx, 'past', 600, null, 'gzip');
  // What a function instance gets with the shared cache (ElastiCache/Valkey, Tair): the extents in a
  // real redis-server on loopback, read over its protocol on every request.
  const redis = await startRedis();
  let shared: string;
  try {
    shared = await refreshes(ctx, 'past-redis', 600, redis, 'gzip');
  } finally {
    await redis.stop();
  }
  const plainLive = await refreshes(ctx, 'live-identity', liveFreshnessS, null, 'identity');
  const plainPast = await refreshes(ctx, 'past-identity', 600, null, 'identity');
  return [
    live,
    'The same with "now" as it is (the data months old): every extent may be stored, and a refresh computes only the extent its new end falls in.',
    '',
    past,
    '',
    'The same with the extents in Redis (`--cache redis://...`, a real redis-server on loopback), as function instances share them:',
    '',
    shared,
    '',
    'The same live and stored refreshes asked without Accept-Encoding (every answer uncompressed on both sides), as this part measured before:',
    '',
    plainLive,
    '',
    plainPast,
    ...(PROFILE ? ['', ...(await profileRefreshes(ctx))] : []),
  ].join('\n');
}

/** The one-cluster refreshes of every round served from stored extents, under `--cpu-prof`, asked as Grafana asks. */
function profileRefreshes(ctx: BenchContext): Promise<string[]> {
  const c = dashboardCases().find((x) => x.name === 'one cluster')!;
  const loaded = Array.from({ length: ROUNDS }, (_, round) => shifted(WINDOW, -(ROUNDS - round) * 60 - REFRESH_S));
  return profileRouter(ctx, {
    title: `BENCH_PROFILE=refresh: the ${c.name} refresh of ${ROUNDS} rounds, every extent stored`,
    serveArgs: ['--cache', 'memory', '--cache-bytes', String(CACHE_BYTES), '--cache-freshness', '600'],
    warmUp: async (url) => {
      for (const w of loaded) await runLoad(url, c.routerQueries, IN_FLIGHT, w, 'gzip');
    },
    measured: async (url) => {
      for (const w of loaded) await runLoad(url, c.routerQueries, IN_FLIGHT, shifted(w, REFRESH_S), 'gzip');
    },
  });
}

/**
 * The refresh rounds with the given freshness window, the extents in memory or in `redis`, the answers
 * asked with `encoding`; `name` for the router's log file.
 */
async function refreshes(ctx: BenchContext, name: string, freshnessS: number, redis: RedisServer | null, encoding: AnswerEncoding): Promise<string> {
  const cases = dashboardCases().filter((c) => c.name !== 'two clusters');
  const backend = redis === null ? ['--cache', 'memory', '--cache-bytes', String(CACHE_BYTES)] : ['--cache', redis.url];
  const router = await startRouterCli(ctx.shardMapFile, ctx.workDir, `router-refresh-${name}`, [],
    [...backend, '--cache-freshness', String(freshnessS)]);
  const floor = await startFloor('replay-floor', router.url, ctx.workDir);
  const machine = new LoadSampler();
  const results = new Map(cases.map((c) => [c, { router: [] as Measured[], direct: [] as Measured[], floor: [] as Measured[] }]));
  let rss = 0;
  let hwm = 0;
  try {
    const pids: Record<string, number> = { router: router.proc.pid, floor: floor.proc.pid, ...(redis === null ? {} : { redis: redis.proc.pid }), ...ctx.pids };
    const names = Object.keys(pids);
    const measure = async (url: string, queries: readonly string[], window: Window): Promise<Measured> => {
      const { result, cpuMs } = await cpuDuring(names.map((n) => pids[n]!), () => runLoad(url, queries, IN_FLIGHT, window, encoding));
      return { ...result, cpu: Object.fromEntries(names.map((n, i) => [n, cpuMs[i]!])) };
    };
    // Warm-up (JIT, connections), on a window no round uses.
    for (const c of cases) {
      await runLoad(router.url, c.routerQueries, IN_FLIGHT, shifted(WINDOW, -3600), encoding);
      await runLoad(directUrl(c, ctx.shards, ctx.globalUrl), c.directQueries, IN_FLIGHT, shifted(WINDOW, -3600), encoding);
    }
    for (let round = 0; round < ROUNDS; round++) {
      machine.sample();
      // Windows end before the data's end ("now"), a minute further on each round.
      const loaded = shifted(WINDOW, -(ROUNDS - round) * 60 - REFRESH_S);
      const refreshed = shifted(loaded, REFRESH_S);
      for (const c of cases) {
        const direct = directUrl(c, ctx.shards, ctx.globalUrl);
        await runLoad(router.url, c.routerQueries, IN_FLIGHT, loaded, encoding); // the dashboard opened
        await runLoad(direct, c.directQueries, IN_FLIGHT, loaded, encoding);
        const sides = { router: () => measure(router.url, c.routerQueries, refreshed), direct: () => measure(direct, c.directQueries, refreshed) };
        const order = round % 2 === 0 ? (['router', 'direct'] as const) : (['direct', 'router'] as const);
        for (const side of order) results.get(c)![side].push(await sides[side]());
        await runLoad(floor.url, c.routerQueries, IN_FLIGHT, refreshed, encoding); // recorded through the router
        results.get(c)!.floor.push(await measure(floor.url, c.routerQueries, refreshed));
      }
    }
    machine.sample();
    rss = procStatusBytes(router.proc.pid, 'VmRSS');
    hwm = procStatusBytes(router.proc.pid, 'VmHWM');
  } finally {
    await floor.stop();
    await router.stop();
  }
  const written = await cacheBytesWritten(router.proc.logFile);

  const md = new Markdown();
  md.text(
    `refresh: the dashboards' ${cases[0]!.routerQueries.length} queries (bench/dashboard-load.ts: 4 h at ${WINDOW.step} s, POST, ${IN_FLIGHT} in flight, `
      + `${encoding === 'gzip' ? '`Accept-Encoding: gzip` as Grafana sends it, answers decompressed by the client' : 'no Accept-Encoding'}) `
      + `loaded, then loaded again with the window moved ${REFRESH_S} s; the second load measured. \`prome-route serve ${backend.join(' ')} `
      + `--cache-freshness ${freshnessS}\`${name === 'live' ? ': "now" at the data\'s end, the last 600 s of a window never stored' : ''}, against the same refresh on the server holding the data. `
      + `${ROUNDS} rounds, each a minute further on; medians; ratios within each round, then their median. CPU = utime + stime from /proc. `
      + 'Replay floor: bench/replay-floor.mjs sending back the answers of that refresh as the router gave them (recorded by one load through it): '
      + `the least a Node server answering those bytes costs. ${machine.summary()}.`,
  );
  const summary = cases.map((c) => {
    const { router: r, direct: d, floor: f } = results.get(c)!;
    const perRound = (x: Measured[], g: (a: Measured, b: Measured) => number) => median(x.map((l, i) => g(l, d[i]!)));
    const wall = perRound(r, (x, y) => x.wallMs / y.wallMs);
    return {
      c, wall,
      row: [
        c.name, c.directName, seconds(median(r.map((l) => l.wallMs))), seconds(median(d.map((l) => l.wallMs))), `**${times(wall)}**`,
        seconds(median(r.map((l) => l.cpu.router!))), seconds(median(r.map((l) => Object.keys(ctx.shards).reduce((sum, s) => sum + l.cpu[s]!, 0)))),
        redis === null ? '-' : seconds(median(r.map((l) => l.cpu.redis!))),
        seconds(median(d.map((l) => l.cpu[c.direct]!))), times(perRound(r, (x, y) => x.cpu.router! / y.cpu[c.direct]!)),
        `${times(perRound(f, (x, y) => x.wallMs / y.wallMs))} / ${times(perRound(f, (x, y) => x.cpu.floor! / y.cpu[c.direct]!))}`,
        `${mb(median(r.map((l) => l.bytes)))} / ${mb(median(d.map((l) => l.bytes)))}`,
      ],
    };
  });
  md.table(['load', 'direct', 'router refresh wall (s)', 'direct refresh wall (s)', 'router / direct wall', 'router CPU (s)', "collectors' CPU during the router's refresh (s)",
    'Redis CPU (s)', 'direct server CPU (s)', 'router CPU / direct server CPU', 'replay floor / direct: wall / CPU', 'answers as sent: router / direct'], summary.map((s) => s.row));
  const failures = cases.flatMap((c) => Object.values(results.get(c)!).flat().flatMap((l) => l.failures));
  if (failures.length > 0) md.text(`**${failures.length} queries failed**:`, ...[...new Set(failures)].slice(0, 10).map((f) => `- ${f}`));
  const bound = redis === null ? `, bounded at ${(CACHE_BYTES / 2 ** 20).toFixed(0)} MiB` : ' to Redis';
  md.text(`memory: the cache wrote ${(written / 2 ** 20).toFixed(1)} MiB of extents in all${bound}; `
    + `the router's resident memory at the end ${(rss / 2 ** 20).toFixed(0)} MiB, peak ${(hwm / 2 ** 20).toFixed(0)} MiB.`);
  md.text(`target (issue 14): ${summary.map(({ c, wall }) => `${c.name}: ${times(wall)} (<= ${TARGET}x: ${wall <= TARGET ? 'met' : 'missed'})`).join('; ')}.`);
  return md.toString();
}

/** The extent bytes the router's request log says it stored. */
async function cacheBytesWritten(logFile: string): Promise<number> {
  let total = 0;
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.includes('"bytesWritten"')) continue;
    try {
      total += (JSON.parse(line) as { cache?: { bytesWritten?: number } }).cache?.bytesWritten ?? 0;
    } catch { /* not a log line */ }
  }
  return total;
}
