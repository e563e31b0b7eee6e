// Overhead of the router on single-shard queries: the same small instant query sent straight to the
// collector, through a plain nginx reverse proxy, through the least possible Node proxy and through
// `prome-route serve` (the real CLI), under load from wrk, interleaved round by round so drift on the
// shared machine hits them all alike.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EVAL_TIME } from '../test/e2e/harness/generate.ts';
import { SMALL_YOUNG_GENERATION, startNginx, startFloor, startRouterCli, type Server } from './servers.ts';
import { runCommand } from '../test/e2e/harness/processes.ts';
import { childrenOf, cpuMs, Markdown, median, type BenchContext } from './support.ts';

export const WRK = process.env.WRK_BIN ?? 'wrk';
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_WRK_ROUNDS ?? 3);
const CONNECTIONS = 8;
const IDLE_SECONDS = 5;
const ROUTER_SMALL_YOUNG = `router ${SMALL_YOUNG_GENERATION.join(' ')}`;
const THREADS = 2;
const SHARD = 'a';
const QUERY_DIRECT = 'demo_num_cpus';
const QUERY_ROUTER = `demo_num_cpus{cluster="${SHARD}"}`;

// wrk prints its summary as one JSON line (latency in µs) so nothing has to parse its text report.
const WRK_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
`;

interface WrkResult {
  requests: number;
  durationUs: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
}

async function wrk(url: string, script: string, seconds: number, connections = CONNECTIONS): Promise<WrkResult & { rps: number }> {
  const threads = Math.min(THREADS, connections);
  const { code, stdout, stderr } = await runCommand(WRK, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '-s', script, url]);
  const line = stdout.split('\n').find((l) => l.startsWith('WRK '));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}): ${stderr}${stdout}`);
  const r = JSON.parse(line.slice(4)) as WrkResult;
  const errors = r.connect + r.read + r.write + r.status + r.timeout;
  if (errors > 0) throw new Error(`wrk against ${url}: ${errors} errors (${JSON.stringify(r)})`);
  return { ...r, rps: r.requests / (r.durationUs / 1e6) };
}

interface Answer { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }

/** The router's answer must be the collector's with `cluster="a"` added, or the comparison means nothing. */
async function checkSameAnswer(direct: string, proxied: readonly string[], viaRouter: string): Promise<number> {
  const get = async (url: string) => (await (await fetch(url, { headers: { 'accept-encoding': 'identity' } })).json()) as Answer;
  const [d, r, ...others] = await Promise.all([get(direct), get(viaRouter), ...proxied.map(get)]);
  const strip = (a: Answer) => JSON.stringify(a.data.result.map(({ metric, value }) => {
    const { cluster: _, ...rest } = metric;
    return { metric: rest, value };
  }));
  if (d.status !== 'success' || d.data.result.length === 0) throw new Error(`direct answer is empty: ${JSON.stringify(d)}`);
  for (const n of others) if (strip(n) !== strip(d)) throw new Error(`a proxy answered differently: ${JSON.stringify(n)}`);
  if (strip(r) !== strip(d) || !r.data.result.every((s) => s.metric.cluster === SHARD)) {
    throw new Error(`router answered differently: ${JSON.stringify(r)} vs ${JSON.stringify(d)}`);
  }
  return d.data.result.length;
}

export async function overhead(ctx: BenchContext): Promise<string> {
  const collector = ctx.shards[SHARD]!;
  const script = path.join(ctx.workDir, 'summary.lua');
  await writeFile(script, WRK_SCRIPT);
  const servers: Server[] = [];
  try {
    for (const start of [
      () => startNginx(collector, ctx.workDir),
      () => startFloor('node-floor', collector, ctx.workDir),
      () => startRouterCli(ctx.shardMapFile, ctx.workDir),
      () => startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-small-young', SMALL_YOUNG_GENERATION),
    ]) {
      servers.push(await start());
    }
    const [nginx, floor, router, routerSmallYoung] = servers as [Server, Server, Server, Server];
    const instant = (base: string, query: string) => `${base}/api/v1/query?${new URLSearchParams({ query, time: String(EVAL_TIME) })}`;
    const targets = [
      { name: 'direct', url: instant(collector, QUERY_DIRECT), pids: () => [] as number[] },
      { name: 'nginx', url: instant(nginx.url, QUERY_DIRECT), pids: () => [nginx.proc.pid, ...childrenOf(nginx.proc.pid)] },
      { name: 'node floor', url: instant(floor.url, QUERY_DIRECT), pids: () => [floor.proc.pid] },
      { name: 'router', url: instant(router.url, QUERY_ROUTER), pids: () => [router.proc.pid] },
      { name: ROUTER_SMALL_YOUNG, url: instant(routerSmallYoung.url, QUERY_ROUTER), pids: () => [routerSmallYoung.proc.pid] },
    ] as const;
    const series = await checkSameAnswer(targets[0].url, [targets[1].url, targets[2].url], targets[3].url);
    await checkSameAnswer(targets[0].url, [], targets[4].url);
    for (const t of targets) await wrk(t.url, script, 2); // warm-up: connections, JIT

    const results: Record<string, (WrkResult & { rps: number; cpuUsPerRequest: number | null })[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates from round to round: none always runs right after another.
      for (const t of [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)]) {
        const pids = t.pids();
        const cpu0 = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
        const r = await wrk(t.url, script, SECONDS);
        const cpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpu0;
        results[t.name]!.push({ ...r, cpuUsPerRequest: pids.length === 0 ? null : (cpu * 1000) / r.requests });
      }
    }

    const md = new Markdown();
    md.text(
      `overhead: \`${QUERY_ROUTER}\` through \`prome-route serve\` vs \`${QUERY_DIRECT}\` straight to shard ${SHARD}'s collector`
        + ` and through nginx (1 worker, keep-alive upstream) and the node floor (bench/node-floor.mjs: forwards, nothing else);`
        + ` the router also with \`${SMALL_YOUNG_GENERATION.join(' ')}\` (see the large answers);`
        + ` instant at EVAL_TIME, ${series} series, GET; wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds ×`
        + ` (${targets.map((t) => t.name).join(', ')}, order rotating) × ${SECONDS} s, after a 2 s warm-up of each.`,
    );
    const rows: (string | number)[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const r = results[t.name]![round]!;
        rows.push([round + 1, t.name, r.rps.toFixed(0), (r.p50 / 1000).toFixed(2), (r.p99 / 1000).toFixed(2)]);
      }
    }
    md.table(['round', 'target', 'req/s', 'p50 (ms)', 'p99 (ms)'], rows);
    // Ratios are taken within each round (side by side), then the median over rounds.
    const perRound = (name: string, f: (r: WrkResult & { rps: number }) => number) =>
      median(results[name]!.map((r, i) => f(r) / f(results.direct![i]!)));
    const summary = (['nginx', 'node floor', 'router', ROUTER_SMALL_YOUNG] as const).map((name) => {
      const cpu = median(results[name]!.map((r) => r.cpuUsPerRequest ?? 0));
      return [name, `${perRound(name, (r) => r.rps).toFixed(2)}x`, `${perRound(name, (r) => r.p50).toFixed(2)}x`,
        `${perRound(name, (r) => r.p99).toFixed(2)}x`, cpu.toFixed(0)];
    });
    md.table(['vs direct (median of per-round ratios)', 'throughput', 'p50 latency', 'p99 latency', 'proxy CPU per request (µs)'], summary);
    // One connection, one request at a time: the latency each hop adds when nothing queues, which is
    // what a dashboard user sees on a machine that is not saturated.
    const idle: { name: string; p50: number }[] = [];
    for (const t of targets) idle.push({ name: t.name, p50: (await wrk(t.url, script, IDLE_SECONDS, 1)).p50 });
    md.text(`one connection (wrk -t1 -c1, ${IDLE_SECONDS} s each): latency added per request when nothing queues.`);
    md.table(['target', 'p50 (ms)', 'added to direct p50 (µs)'], idle.map((r) => [r.name, (r.p50 / 1000).toFixed(3), r.name === 'direct' ? '' : (r.p50 - idle[0]!.p50).toFixed(0)]));
    const [nginxRps, routerRps] = [perRound('nginx', (r) => r.rps), perRound('router', (r) => r.rps)];
    const [nginxP50, routerP50] = [perRound('nginx', (r) => r.p50), perRound('router', (r) => r.p50)];
    md.text(`target: router throughput and p50 relative to direct as good as nginx's: throughput ${routerRps.toFixed(2)}x vs ${nginxRps.toFixed(2)}x `
      + `(${routerRps >= nginxRps ? 'met' : 'missed'}), p50 ${routerP50.toFixed(2)}x vs ${nginxP50.toFixed(2)}x (${routerP50 <= nginxP50 ? 'met' : 'missed'}); `
      + `absolute: direct ${median(results.direct!.map((r) => r.rps)).toFixed(0)} req/s, p50 ${(median(results.direct!.map((r) => r.p50)) / 1000).toFixed(2)} ms.`);
    return md.toString();
  } finally {
    for (const server of servers) await server.stop();
  }
}
