// Issue 15: shard a as an HA pair (two Prometheus servers, each missing a different half hour, the
// data of test/e2e/replicas.test.ts) through `prome-route serve`, for the one-cluster dashboard load
// of bench/dashboard-load.ts, three ways side by side: "replicas": "merge" reading remote read as
// STREAMED_XOR_CHUNKS (what the router asks for), "merge" reading SAMPLES (the router's requests pass
// a proxy in this process that rewrites their accepted response types to SAMPLES only), and
// "failover". Wall, CPU of the router and of the replicas from /proc, and the bytes the replicas sent
// (wchar from /proc/<pid>/io: on loopback with no scraping, what a server writes is its answers).
// Then one shard's raw data three ways: remote read as chunks, as SAMPLES, and the query API's JSON
// of the same samples (`{__name__=~".+"}[2h]`): bytes, the replica's CPU, this process's decoding CPU.
//
// BENCH_REPLICAS_PROFILE=1: afterwards, a router in "merge" mode under `node --cpu-prof` serves the
// load (bench/profile.ts), and its top self-time functions are printed.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { PbfReader, PbfWriter } from 'pbf';
import snappy from 'snappyjs';
import { AnswerBytes } from '../lib/collectors/answer-bytes.ts';
import { mergeReplicas } from '../lib/replicas/merged-query.ts';
import { RESPONSE_SAMPLES } from '../lib/replicas/prompb.ts';
import { ACCEPTED_RESPONSE_TYPES, readReplica } from '../lib/replicas/remote-read.ts';
import { END_S, START_S } from '../test/e2e/harness/generate.ts';
import { HOLES, prepareReplicaBlocks, serveBlocks } from '../test/e2e/harness/replicas.ts';
import { dashboardCases, runLoad, type LoadResult } from './dashboard-load.ts';
import { profileRouter } from './profile.ts';
import { startRouterCli } from './servers.ts';
import { cpuDuring, listenerPids, LoadSampler, Markdown, median, type BenchContext } from './support.ts';

const ROUNDS = Number(process.env.BENCH_REPLICAS_ROUNDS ?? 3);
const PROFILE = process.env.BENCH_REPLICAS_PROFILE === '1';
const PROFILE_LOADS = Number(process.env.BENCH_PROFILE_LOADS ?? 3);
const MODES = ['merge, chunks', 'merge, SAMPLES', 'failover'] as const;
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

/** A ReadRequest whose accepted response types are SAMPLES only, its queries as they were. */
function samplesOnly(request: Uint8Array): Uint8Array {
  const out = new PbfWriter();
  new PbfReader(request).readFields((field, _: null, pbf) => {
    if (field === 1) out.writeBytesField(1, pbf.readBytes());
  }, null);
  out.writePackedVarint(2, [RESPONSE_SAMPLES]);
  return out.finish();
}

/** A proxy to `upstream` that makes remote read requests ask for SAMPLES; everything else passes as it is. */
async function samplesProxy(upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part)).on('end', () => {
      let body = Buffer.concat(parts);
      if (req.url === '/api/v1/read') body = Buffer.from(snappy.compress(samplesOnly(snappy.uncompress(body))));
      const forward = http.request(`${upstream}${req.url}`, { method: req.method, agent, headers: { ...req.headers, 'content-length': body.byteLength } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy()).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => { agent.destroy(); server.close(() => resolve()); }) };
}

export async function replicas(ctx: BenchContext): Promise<string> {
  const blocks = await prepareReplicaBlocks(HOLES.version, 'a', HOLES.build);
  const servers = await Promise.all(['replica1', 'replica2'].map((name) => serveBlocks(blocks[name]!, ctx.workDir, `bench-${name}`)));
  const proxies = await Promise.all(servers.map((r) => samplesProxy(r.url)));
  const md = new Markdown();
  const load = new LoadSampler();
  try {
    const urls = servers.map((r) => r.url);
    const pidOf = listenerPids(Object.fromEntries(urls.map((u, i) => [`r${i}`, u])));
    const replicaPids = urls.map((_, i) => pidOf[`r${i}`]!); // in the replicas' order
    const maps: Record<Mode, unknown> = {
      'merge, chunks': { urls, replicas: 'merge' },
      'merge, SAMPLES': { urls: proxies.map((p) => p.url), replicas: 'merge' },
      failover: { urls, replicas: 'failover' },
    };
    const mapFile = (mode: Mode) => path.join(ctx.workDir, `replicas-${mode.replace(/\W+/g, '-')}.json`);
    const routers = {} as Record<Mode, Awaited<ReturnType<typeof startRouterCli>>>;
    for (const mode of MODES) {
      await writeFile(mapFile(mode), JSON.stringify({ shards: { ...ctx.shards, a: maps[mode] } }));
      routers[mode] = await startRouterCli(mapFile(mode), ctx.workDir, `router-replicas-${mode.replace(/\W+/g, '-')}`);
    }
    const queries = dashboardCases()[0]!.routerQueries;
    try {
      const measure = async (mode: Mode): Promise<Load> => {
        load.sample();
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
      const loads: Record<Mode, Load[]> = { 'merge, chunks': [], 'merge, SAMPLES': [], failover: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) loads[mode].push(await measure(mode));
      }
      const med = (mode: Mode, f: (l: Load) => number) => median(loads[mode].map(f));
      const perRound = (a: Mode, b: Mode, f: (l: Load) => number) => median(loads[a].map((l, i) => f(l) / f(loads[b][i]!))).toFixed(2);
      const ratios = (a: Mode, b: Mode) => `${a} / ${b}: wall ${perRound(a, b, (l) => l.wallMs)}x, router CPU ${perRound(a, b, (l) => l.routerCpuMs)}x, `
        + `replicas CPU ${perRound(a, b, (l) => l.replicasCpuMs)}x, bytes the replicas sent ${perRound(a, b, (l) => l.replicasBytes)}x.`;
      md.text(
        `replicas: the one-cluster dashboard load (${queries.length} query_range, \`cluster="a"\` in every selector, 4 h at 15 s, 6 in flight) `
          + 'through `prome-route serve` with shard a on two replicas (each missing a different 30 minutes): "replicas": "merge" with remote read '
          + 'as STREAMED_XOR_CHUNKS (the router\'s choice), "merge" with SAMPLES (through a proxy in the bench process that rewrites the requests\' '
          + 'accepted response types; its CPU is in neither column), and "failover" (the first replica answers, holes and all). '
          + `${ROUNDS} rounds alternating the order, after one warm-up load each; medians; ratios within each round, then their median. `
          + 'CPU = utime + stime from /proc/<pid>/stat; bytes sent = wchar from /proc/<pid>/io of the two replicas. This machine has 2 cores '
          + 'shared with other engineers\' test runs: the figures are noisy.',
      );
      md.table(['mode', 'wall (s)', 'router CPU (s)', 'replicas CPU (s)', 'replicas sent (MB)', 'answers (MB)', 'failures'], MODES.map((mode) => [
        mode, s(med(mode, (l) => l.wallMs)), s(med(mode, (l) => l.routerCpuMs)), s(med(mode, (l) => l.replicasCpuMs)),
        (med(mode, (l) => l.replicasBytes) / 1e6).toFixed(1), (med(mode, (l) => l.bytes) / 1e6).toFixed(1), loads[mode].reduce((n, l) => n + l.failures.length, 0),
      ]));
      md.text(ratios('merge, chunks', 'merge, SAMPLES'), '', ratios('merge, chunks', 'failover'));
      const failures = [...new Set(MODES.flatMap((m) => loads[m].flatMap((l) => l.failures)))];
      if (failures.length > 0) md.text(`**${failures.length} distinct failures:**`, ...failures.slice(0, 10).map((f) => `- ${f.slice(0, 300)}`));
    } finally {
      await Promise.all(MODES.map((m) => routers[m]?.stop()));
    }
    md.text(...(await rawBytes(urls[0]!, replicaPids[0]!, load)));
    md.text(`${load.summary()}.`);
    if (PROFILE) {
      md.text(...(await profileRouter({ ...ctx, shardMapFile: mapFile('merge, chunks') }, {
        title: `BENCH_REPLICAS_PROFILE=1: the one-cluster load with shard a merged (chunks) ${PROFILE_LOADS} times after one warm-up load`,
        serveArgs: ['--cache', 'off'],
        warmUp: (url) => runLoad(url, queries),
        measured: async (url) => {
          for (let i = 0; i < PROFILE_LOADS; i++) await runLoad(url, queries);
        },
      })));
    }
  } finally {
    await Promise.all([...servers.map((r) => r.stop()), ...proxies.map((p) => p.close())]);
  }
  return md.toString();
}

interface RawRead {
  readonly samples: number;
  readonly wireBytes: number;
  readonly decodedBytes: number;
  readonly wallMs: number;
  readonly replicaCpuMs: number;
  readonly decodeCpuMs: number;
}

/** This process's CPU (user + system) in ms. */
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** One replica's whole data (2 h, every series) as remote read (chunks, SAMPLES) and as the query API's JSON. */
async function rawBytes(url: string, replicaPid: number, load: LoadSampler): Promise<string[]> {
  const shard = { name: 'a', urls: [url], headers: {} };
  const rounds = 3;
  const ways = {
    chunks: 'remote read, STREAMED_XOR_CHUNKS (frames of XOR chunks)',
    samples: 'remote read, SAMPLES (snappy + protobuf)',
    json: 'query API JSON (`{__name__=~".+"}[2h]`), JSON.parse',
  } as const;
  type Way = keyof typeof ways;
  const reads: Record<Way, RawRead[]> = { chunks: [], samples: [], json: [] };
  const once = async (way: Way): Promise<Omit<RawRead, 'wallMs' | 'replicaCpuMs' | 'decodeCpuMs'>> => {
    if (way === 'json') {
      const response = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: `{__name__=~".+"}[${END_S - START_S}s]`, time: String(END_S) }) });
      const text = await response.text();
      const body = JSON.parse(text) as { data: { result: { values: unknown[] }[] } };
      return { wireBytes: Buffer.byteLength(text), decodedBytes: NaN, samples: body.data.result.reduce((n, r) => n + r.values.length, 0) };
    }
    const accepted = way === 'chunks' ? ACCEPTED_RESPONSE_TYPES : [RESPONSE_SAMPLES];
    const { series, bytes } = await readReplica(shard, 0, [{ matchers: [{ name: '__name__', op: '=~', value: '.+' }], start: START_S * 1000, end: END_S * 1000 }], Date.now() + 120_000, new AnswerBytes(2 ** 31), accepted);
    if (bytes.type !== way) throw new Error(`asked for ${way}, the replica answered ${bytes.type}`);
    const merged = mergeReplicas(series, END_S * 1000);
    return { wireBytes: bytes.wire, decodedBytes: bytes.protobuf, samples: merged.reduce((n, m) => n + m.timestamps.length, 0) };
  };
  for (let i = 0; i < rounds; i++) {
    for (const way of Object.keys(ways) as Way[]) {
      load.sample();
      const cpu0 = ownCpuMs();
      const { result, wallMs, cpuMs } = await cpuDuring([replicaPid], () => once(way));
      reads[way].push({ ...result, wallMs, replicaCpuMs: cpuMs[0]!, decodeCpuMs: ownCpuMs() - cpu0 });
    }
  }
  const md = new Markdown();
  md.text(`raw data of one replica (every series, 2 h) fetched and decoded by this process, ${rounds} times each way, medians; `
    + 'the replica\'s CPU from /proc, this process\'s (the decoding, as the router does it) from process.cpuUsage():');
  const m = (way: Way, f: (r: RawRead) => number) => median(reads[way].map(f));
  md.table(['how', 'samples', 'bytes on the wire (MB)', 'protobuf decoded (MB)', 'fetch + decode (s)', 'replica CPU (s)', 'decoding CPU (s)'], (Object.keys(ways) as Way[]).map((way) => [
    ways[way], m(way, (r) => r.samples), (m(way, (r) => r.wireBytes) / 1e6).toFixed(1), way === 'json' ? '-' : (m(way, (r) => r.decodedBytes) / 1e6).toFixed(1),
    s(m(way, (r) => r.wallMs)), s(m(way, (r) => r.replicaCpuMs)), s(m(way, (r) => r.decodeCpuMs)),
  ]));
  const bytesRatio = (a: Way, b: Way) => (m(a, (r) => r.wireBytes) / m(b, (r) => r.wireBytes)).toFixed(2);
  md.text(`bytes on the wire: chunks / SAMPLES ${bytesRatio('chunks', 'samples')}x, SAMPLES / JSON ${bytesRatio('samples', 'json')}x, chunks / JSON ${bytesRatio('chunks', 'json')}x; `
    + `replica CPU chunks / SAMPLES ${(m('chunks', (r) => r.replicaCpuMs) / m('samples', (r) => r.replicaCpuMs)).toFixed(2)}x.`);
  return md.lines;
}
