// Cross-shard figures, measured side by side against real Prometheus collectors on loopback; one
// part of `npm run bench` (bench/run.ts). Returns Markdown.
//
//   fan-out     latency of one query through the router over N shards, against the slowest
//               collector answering the same per-shard query directly (median of RUNS each)
//   merge       a large range answer from 3 shards united by the router: MB/s of collector bytes
//   push-down   bytes the collectors send for aggregations, with and without partial aggregates
//
// The router runs in this process (createRouter), so the bytes collectors send can be counted at fetch.
import { createRouter } from '../lib/api/router.ts';
import { parseShardMap } from '../lib/shards/schema.ts';
import { EVAL_TIME, START_S } from '../test/e2e/harness/generate.ts';
import type { BenchContext } from './support.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 25);

export async function crossShard(ctx: BenchContext): Promise<string> {
  // The bytes collectors send, as the router counts them for its request log line.
  let bytesIn = 0;
  const countBytes = (entry: Record<string, unknown>) => {
    bytesIn += typeof entry.bytes === 'number' ? entry.bytes : 0;
  };
  return measure(Object.values(ctx.shards), countBytes, () => bytesIn, () => (bytesIn = 0));
}

async function measure(collectors: string[], log: (entry: Record<string, unknown>) => void, bytes: () => number, resetBytes: () => void): Promise<string> {
  function routerOver(n: number, pushDown = true) {
    const shards = Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, collectors[i % collectors.length]!]));
    const map = parseShardMap({ shards });
    return createRouter({ shardMap: async () => map, pushDown, timeoutMs: 60_000, log });
  }

  async function timed(fn: () => Promise<unknown>): Promise<number> {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  }

  function middle(times: number[]): number {
    const sorted = [...times].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  async function median(fn: () => Promise<unknown>, runs = RUNS): Promise<number> {
    await fn(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timed(fn));
    return middle(times);
  }

  async function viaRouter(router: ReturnType<typeof routerOver>, path: string, params: Record<string, string>): Promise<unknown> {
    const response = await router(new Request(`http://bench${path}?${new URLSearchParams(params)}`));
    const body = (await response.json()) as { status: string; error?: string };
    if (body.status !== 'success') throw new Error(`${params.query}: ${body.error}`);
    return body;
  }

  async function direct(url: string, path: string, params: Record<string, string>): Promise<unknown> {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    return response.json();
  }

  const lines: string[] = [];
  const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(' | ')} |`);

  // --- fan-out -------------------------------------------------------------------------------------
  // Router and direct runs alternate, so drift on this shared 2-core machine hits both alike.
  const fanoutQuery = 'sum by (mode) (rate(demo_cpu_usage_seconds_total[5m]))';
  const instant = { query: fanoutQuery, time: String(EVAL_TIME) };
  lines.push(`fan-out: \`${fanoutQuery}\`, instant; shards map round-robin onto ${collectors.length} collectors`, '');
  row('shards', 'router median (ms)', 'slowest collector direct (ms)', 'ratio');
  row('---', '---', '---', '---');
  for (const n of [2, 8, 32]) {
    const router = routerOver(n);
    const routerTimes: number[] = [];
    const directTimes: number[][] = collectors.map(() => []);
    await viaRouter(router, '/api/v1/query', instant);
    for (let i = 0; i < RUNS; i++) {
      routerTimes.push(await timed(() => viaRouter(router, '/api/v1/query', instant)));
      for (const [c, url] of collectors.entries()) directTimes[c]!.push(await timed(() => direct(url, '/api/v1/query', instant)));
    }
    const ms = middle(routerTimes);
    const slowest = Math.max(...directTimes.map(middle));
    row(n, ms.toFixed(2), slowest.toFixed(2), `${(ms / slowest).toFixed(2)}x`);
  }

  // --- merge ---------------------------------------------------------------------------------------
  const mergeQuery = '{__name__=~"node_.*"}';
  const wide = { query: mergeQuery, start: String(START_S + 600), end: String(EVAL_TIME), step: '15' };
  const router3 = routerOver(3);
  resetBytes();
  await viaRouter(router3, '/api/v1/query_range', wide);
  const mergedBytes = bytes();
  const mergeMs = await median(() => viaRouter(router3, '/api/v1/query_range', wide), Math.min(RUNS, 7));
  const directMs = Math.max(...(await Promise.all(collectors.map((url) => median(() => direct(url, '/api/v1/query_range', wide), Math.min(RUNS, 7))))));
  lines.push('', `merge: \`${mergeQuery}\` over ${((EVAL_TIME - START_S - 600) / 60).toFixed(0)} min at 15 s, 3 shards`, '');
  row('collector bytes', 'router median (ms)', 'slowest collector direct (ms)', 'ratio', 'merge throughput');
  row('---', '---', '---', '---', '---');
  row(`${(mergedBytes / 1e6).toFixed(1)} MB`, mergeMs.toFixed(0), directMs.toFixed(0), `${(mergeMs / directMs).toFixed(2)}x`, `${(mergedBytes / 1e6 / (mergeMs / 1000)).toFixed(1)} MB/s`);

  // --- push-down -----------------------------------------------------------------------------------
  lines.push('', 'push-down: bytes collectors send for one range query (15 min at 15 s) over 3 shards', '');
  row('query', 'with push-down', 'without', 'saved');
  row('---', '---', '---', '---');
  for (const query of [
    'sum by (mode) (rate(node_cpu_seconds_total[1m]))',
    'avg(node_memory_MemAvailable_bytes)',
    'topk(3, rate(node_network_receive_bytes_total[1m]))',
    'stddev by (job) (node_load1)',
  ]) {
    const params = { query, start: String(EVAL_TIME - 900), end: String(EVAL_TIME), step: '15' };
    const measure = async (pushDown: boolean) => {
      resetBytes();
      await viaRouter(routerOver(3, pushDown), '/api/v1/query_range', params);
      return bytes();
    };
    const [withPd, without] = [await measure(true), await measure(false)];
    row(`\`${query}\``, `${(withPd / 1024).toFixed(1)} KiB`, `${(without / 1024).toFixed(1)} KiB`, `${(100 * (1 - withPd / without)).toFixed(0)}%`);
  }

  return lines.join('\n');
}
