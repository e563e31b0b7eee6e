// `npm run bench`: every benchmark in sequence against one set of real Prometheus collectors on
// loopback (the end-to-end dataset), printing Markdown on stdout (progress on stderr). BENCHMARKS.md
// records a run and the commands. `npm run bench -- overhead analysis` runs only the parts named.
//
//   overhead      single-shard queries under wrk: direct vs nginx vs `prome-route serve`
//   large         a 20+ MB query_range through `prome-route serve` vs direct: time, router peak RSS
//   analysis      µs per query to plan/rewrite (single shard) and compile (cross-shard), shared corpora
//   cross-shard   fan-out over 2/8/32 shards, merge throughput, push-down bytes
//   cold-start    bundle sizes; fresh `node` importing a bundled handler and serving its first requests
//   dashboards    issue 11: the dashboards' load through the router vs the collector / global Prometheus,
//                 wall and CPU of every process (BENCH_PROFILE=one/two/all: a --cpu-prof of that load)
//   handler-cpu   issue 11: the same queries through the bundled AWS handler, CPU per invocation vs serve's
//   handler-gzip  issue 10: a ~5 MB answer through the bundled AWS handler with and without gzip, wall and CPU
//   fanout        issue 11: the router over 8/32/128 simulated collectors vs the slowest shard alone
//   refresh       issue 14: a dashboard reloaded with its window moved 30 s, router with its results cache
//                 vs the collector / global Prometheus directly, wall and CPU; the cache's memory bound
//   replicas      issue 15: an HA pair merged vs failover for the one-cluster dashboard; remote read vs JSON bytes
//
// Every process started here (Prometheus, nginx, routers, wrk, fresh node processes) is stopped at the
// end, on failure and on ^C; if this process is killed outright, each one's wrapper stops it.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, writeShardMap } from '../test/e2e/harness/prometheus.ts';
import { analysis } from './analysis.ts';
import { coldStart } from './cold-start.ts';
import { crossShard } from './cross-shard.ts';
import { dashboards } from './dashboards.ts';
import { fanout } from './fanout.ts';
import { handlerCpu } from './handler-cpu.ts';
import { handlerGzip } from './handler-gzip.ts';
import { largeAnswers } from './large.ts';
import { overhead, WRK } from './overhead.ts';
import { refresh } from './refresh.ts';
import { replicas } from './replicas.ts';
import { NGINX } from './servers.ts';
import { listenerPids, type BenchContext } from './support.ts';

const BENCHMARKS: Record<string, { title: string; run: (ctx: BenchContext) => Promise<string> }> = {
  overhead: { title: 'Overhead on single-shard queries (bench/overhead.ts)', run: overhead },
  large: { title: 'Large answers (bench/large.ts)', run: largeAnswers },
  analysis: { title: 'PromQL analysis and rewrite (bench/analysis.ts)', run: analysis },
  'cross-shard': { title: 'Cross-shard queries (bench/cross-shard.ts)', run: crossShard },
  'cold-start': { title: 'Cold start (bench/cold-start.ts)', run: coldStart },
  dashboards: { title: 'Dashboard loads, issue 11 (bench/dashboards.ts)', run: dashboards },
  'handler-cpu': { title: 'Router CPU through the AWS handler, issue 11 (bench/handler-cpu.ts)', run: handlerCpu },
  'handler-gzip': { title: 'Gzip of a large answer through the AWS handler, issue 10 (bench/handler-gzip.ts)', run: handlerGzip },
  fanout: { title: 'Fan-out to simulated collectors, issue 11 (bench/fanout.ts)', run: fanout },
  refresh: { title: 'Dashboard refresh with the results cache, issue 14 (bench/refresh.ts)', run: refresh },
  replicas: { title: 'HA pairs merged, issue 15 (bench/replicas.ts)', run: replicas },
};

const names = process.argv.slice(2);
for (const name of names) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
}
const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);

// Exit through process.exit on signals so the 'exit' handlers (ours and the Prometheus harness's) run.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/** `name x.y.z` from a tool's version banner (stdout or stderr), or `name: not found`. */
function version(name: string, cmd: string, args: string[]): string {
  const { stdout, stderr, error } = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = /(\d+\.\d+\.\d+)/.exec(`${stdout ?? ''}${stderr ?? ''}`);
  return error || !m ? `${name}: not found` : `${name} ${m[1]}`;
}

const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Removes work directories of runs that were killed outright (SIGKILL skips every clean-up). */
async function pruneWorkDirs(): Promise<void> {
  for (const entry of (await readdir(os.tmpdir())).filter((e) => e.startsWith(WORKDIR_PREFIX))) {
    const dir = path.join(os.tmpdir(), entry);
    const pid = Number(await readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => ''));
    if (!pid) continue; // being created right now
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') await rm(dir, { recursive: true, force: true });
    }
  }
}

if (selected.includes('overhead')) {
  for (const [name, cmd] of [['nginx', NGINX], ['wrk', WRK]] as const) {
    if (version(name, cmd, ['-v']).endsWith('not found')) {
      console.error(`${cmd} not found: run scripts/setup.sh (Debian packages nginx-light and wrk), or set ${name.toUpperCase()}_BIN`);
      process.exit(2);
    }
  }
}

const WORKDIR_PREFIX = 'prome-route-bench-';
await pruneWorkDirs();
const workDir = await mkdtemp(path.join(os.tmpdir(), WORKDIR_PREFIX));
await writeFile(path.join(workDir, 'owner.pid'), String(process.pid));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
let failed = false;
const sections: string[] = [];
const t0 = Date.now();
progress(`starting 3 collector Prometheus servers (workdir ${workDir})`);
const cluster = await startCluster({ shards: ['a', 'b', 'c'] });
try {
  const shardMapFile = path.join(workDir, 'shards.json');
  await writeShardMap(shardMapFile, cluster.shards);
  const pids = listenerPids({ ...cluster.shards, global: cluster.globalUrl });
  const ctx: BenchContext = { shards: cluster.shards, globalUrl: cluster.globalUrl, pids, shardMapFile, workDir };
  for (const name of selected) {
    const { title, run } = BENCHMARKS[name]!;
    const started = Date.now();
    progress(`${name}...`);
    sections.push(`### ${title}\n\n${await run(ctx)}`);
    progress(`${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await cluster.stop();
  await rm(workDir, { recursive: true, force: true });
}

if (sections.length > 0) {
  const machine = `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, `
    + `${version('Prometheus', 'prometheus', ['--version'])}, ${version('nginx', NGINX, ['-v'])}, ${version('wrk', WRK, ['-v'])}`;
  console.log([`Run of ${new Date().toISOString().slice(0, 10)} (${machine}); ${((Date.now() - t0) / 1000).toFixed(0)} s in all.`, '', ...sections.flatMap((s) => [s, ''])].join('\n'));
}
process.exit(failed ? 1 : 0);
