// Issue 15: shard a as an HA pair (two Prometheus servers, each missing a different half hour, the
// data of test/e2e/replicas.test.ts) through `prome-route serve`, "replicas": "merge" against
// "failover", for the one-cluster dashboard load of bench/dashboard-load.ts: wall, CPU of the router
// and of the replicas from /proc, and the bytes the replicas sent (wchar from /proc/<pid>/io: on
// loopback with no scraping, what a server writes is its answers). Then one shard's raw data both
// ways: remote read (snappy-compressed protobuf, SAMPLES) against the query API's JSON of the same
// samples (`{__name__=~".+"}[2h]`), bytes and the router-side decoding time.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AnswerBytes } from '../lib/collectors/answer-bytes.ts';
import { readReplica } from '../lib/replicas/remote-read.ts';
import { mergeReplicas } from '../lib/replicas/merged-query.ts';
import { END_S, START_S } from '../test/e2e/harness/generate.ts';
import { HOLES, prepareReplicaBlocks, serveBlocks } from '../test/e2e/harness/replicas.ts';
import { dashboardCases, runLoad, type LoadResult } from './dashboard-load.ts';
import { startRouterCli } from './servers.ts';
import { cpuDuring, listenerPids, Markdown, median, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_REPLICAS_ROUNDS ?? 3);
const MODES = ['merge', 'failover'] as const;
type Mode = (typeof MODES)[number];

/** Bytes a process has written so far (all writes, sockets included). */
function writtenBytes(pid: number): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

interface Load extends LoadResult {
  readonly routerCpuMs: number;
  readonly replicasCpuMs: number;
  readonly replicasBytes: number;
}

const s = (ms: number) => (ms / 1000).toFixed(2);

export async function replicas(ctx: BenchContext): Promise<string> {
  const blocks = await prepareReplicaBlocks(HOLES.version, 'a', HOLES.build);
  const servers = await Promise.all(['replica1', 'replica2'].map((name) => serveBlocks(blocks[name]!, ctx.workDir, `bench-${name}`)));
  const md = new Markdown();
  try {
    const urls = servers.map((r) => r.url);
    const replicaPids = Object.values(listenerPids(Object.fromEntries(urls.map((u, i) => [`r${i}`, u]))));
    const routers = {} as Record<Mode, Awaited<ReturnType<typeof startRouterCli>>>;
    for (const mode of MODES) {
      const file = path.join(ctx.workDir, `replicas-${mode}.json`);
      await writeFile(file, JSON.stringify({ shards: { ...ctx.shards, a: { urls, replicas: mode } } }));
      routers[mode] = await startRouterCli(file, ctx.workDir, `router-replicas-${mode}`);
    }
    try {
      const queries = dashboardCases()[0]!.routerQueries;
      const measure = async (mode: Mode): Promise<Load> => {
        const pids = [routers[mode].proc.pid, ...replicaPids];
        const before = replicaPids.map(writtenBytes);
        const { result, cpuMs } = await cpuDuring(pids, () => runLoad(routers[mode].url, queries));
        const after = replicaPids.map(writtenBytes);
        return {
          ...result,
          routerCpuMs: cpuMs[0]!,
          replicasCpuMs: cpuMs.slice(1).reduce((a, b) => a + b, 0),
          replicasBytes: after.reduce((sum, b, i) => sum + b - before[i]!, 0),
        };
      };
      for (const mode of MODES) await measure(mode); // warm-up: JIT, connections, plan caches
      const loads: Record<Mode, Load[]> = { merge: [], failover: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) loads[mode].push(await measure(mode));
      }
      const med = (mode: Mode, f: (l: Load) => number) => median(loads[mode].map(f));
      const perRound = (f: (l: Load) => number) => median(loads.merge.map((l, i) => f(l) / f(loads.failover[i]!)));
      md.text(
        `replicas: the one-cluster dashboard load (${queries.length} query_range, \`cluster="a"\` in every selector, 4 h at 15 s, 6 in flight) `
          + 'through `prome-route serve` with shard a on two replicas (each missing a different 30 minutes), "replicas": "merge" vs "failover" '
          + `(the first replica answers, holes and all). ${ROUNDS} rounds alternating which goes first, after one warm-up load each; medians; `
          + 'ratios within each round, then their median. CPU = utime + stime from /proc/<pid>/stat; bytes sent = wchar from /proc/<pid>/io of '
          + 'the two replicas. This machine has 2 cores shared with other engineers\' test runs: the figures are noisy.',
      );
      md.table(['mode', 'wall (s)', 'router CPU (s)', 'replicas CPU (s)', 'replicas sent (MB)', 'answers (MB)', 'failures'], MODES.map((mode) => [
        mode, s(med(mode, (l) => l.wallMs)), s(med(mode, (l) => l.routerCpuMs)), s(med(mode, (l) => l.replicasCpuMs)),
        (med(mode, (l) => l.replicasBytes) / 1e6).toFixed(1), (med(mode, (l) => l.bytes) / 1e6).toFixed(1), loads[mode].reduce((n, l) => n + l.failures.length, 0),
      ]));
      md.text(`merge / failover: wall ${perRound((l) => l.wallMs).toFixed(2)}x, router CPU ${perRound((l) => l.routerCpuMs).toFixed(2)}x, `
        + `replicas CPU ${perRound((l) => l.replicasCpuMs).toFixed(2)}x, bytes the replicas sent ${perRound((l) => l.replicasBytes).toFixed(2)}x.`);
      const failures = [...new Set(MODES.flatMap((m) => loads[m].flatMap((l) => l.failures)))];
      if (failures.length > 0) md.text(`**${failures.length} distinct failures:**`, ...failures.slice(0, 10).map((f) => `- ${f.slice(0, 300)}`));
    } finally {
      await Promise.all(MODES.map((m) => routers[m]?.stop()));
    }
    md.text(...(await rawBytes(urls[0]!)));
  } finally {
    await Promise.all(servers.map((r) => r.stop()));
  }
  return md.toString();
}

/** One replica's whole data (2 h, every series) as remote read and as the query API's JSON. */
async function rawBytes(url: string): Promise<string[]> {
  const shard = { name: 'a', urls: [url], headers: {} };
  const rounds = 3;
  const remote: { bytes: number; decompressed: number; ms: number; samples: number }[] = [];
  const json: { bytes: number; ms: number; samples: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const { series, bytes } = await readReplica(shard, 0, [{ matchers: [{ name: '__name__', op: '=~', value: '.+' }], start: START_S * 1000, end: END_S * 1000 }], Date.now() + 120_000, new AnswerBytes(2 ** 31));
    const merged = mergeReplicas(series, END_S * 1000);
    remote.push({ bytes: bytes.wire, decompressed: bytes.protobuf, ms: performance.now() - t0, samples: merged.reduce((n, m) => n + m.timestamps.length, 0) });
    const t1 = performance.now();
    const response = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: `{__name__=~".+"}[${END_S - START_S}s]`, time: String(END_S) }) });
    const text = await response.text();
    const body = JSON.parse(text) as { data: { result: { values: unknown[] }[] } };
    json.push({ bytes: Buffer.byteLength(text), ms: performance.now() - t1, samples: body.data.result.reduce((n, r) => n + r.values.length, 0) });
  }
  const md = new Markdown();
  md.text(`raw data of one replica (every series, 2 h) fetched and decoded by this process, ${rounds} times, medians (times include the server's work):`);
  md.table(['how', 'samples', 'bytes on the wire (MB)', 'decoded size (MB)', 'fetch + decode (s)'], [
    ['remote read, SAMPLES (snappy + protobuf), series merged as the router does', median(remote.map((r) => r.samples)), (median(remote.map((r) => r.bytes)) / 1e6).toFixed(1), (median(remote.map((r) => r.decompressed)) / 1e6).toFixed(1), s(median(remote.map((r) => r.ms)))],
    ['query API JSON (`{__name__=~".+"}[2h]`), JSON.parse', median(json.map((r) => r.samples)), (median(json.map((r) => r.bytes)) / 1e6).toFixed(1), '-', s(median(json.map((r) => r.ms)))],
  ]);
  md.text(`remote read / JSON bytes on the wire: ${(median(remote.map((r) => r.bytes)) / median(json.map((r) => r.bytes))).toFixed(2)}x.`);
  return md.lines;
}
