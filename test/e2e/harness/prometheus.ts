// Real Prometheus servers on loopback for the end-to-end tests: one per shard ("collectors", data
// without the shard label) and one global oracle (all data, with the label). Generated data is
// backfilled with promtool once and cached under <repo>/.tmp/e2e-data/<hash>/.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasData, queryInstant } from './client.ts';
import { freePort, sleep, startProcess } from './processes.ts';
import { DASHBOARD_EXPRS_FILE, REPO_ROOT } from './corpus.ts';
import { DEFAULT_SEED, DEFAULT_SHARDS, EVAL_TIME, SHARD_LABEL, writeOpenMetricsFiles } from './generate.ts';
import type { DatasetStats, GenerateOptions, WrittenDatasets } from './generate.ts';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
const PROMTOOL = process.env.PROMTOOL_BIN ?? 'promtool';
export const CACHE_ROOT = path.join(REPO_ROOT, '.tmp', 'e2e-data');
const HARNESS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Everything the generated data depends on; editing any of these invalidates the cache. */
const GENERATOR_INPUTS = [
  'series.ts', 'demo-metrics.ts', 'node-metrics.ts', 'kube-metrics.ts', 'dashboard-metrics.ts',
  'generate.ts', 'selectors.ts', 'variables.ts', 'corpus.ts',
].map((f) => path.join(HARNESS_DIR, f))
  // The selector extraction and matcher semantics the generator relies on are the router's own.
  .concat(['parse.ts', 'lex.ts', 'ast.ts', 'strings.ts', 'matchers.ts'].map((f) => path.join(REPO_ROOT, 'lib', 'promql', f)))
  .concat(DASHBOARD_EXPRS_FILE);

// --- process bookkeeping -----------------------------------------------------------------------------

const runDirs = new Set<string>();

// Run directories of a test process that exits without calling stop() (failed test, crash). The
// processes themselves are taken down by processes.ts.
process.on('exit', () => {
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}


// --- backfill ----------------------------------------------------------------------------------------

/** `promtool tsdb create-blocks-from openmetrics <file> <dir>`: turns OpenMetrics text into TSDB blocks. */
export async function backfill(openMetricsFile: string, blocksDir: string): Promise<void> {
  await mkdir(blocksDir, { recursive: true });
  const { code, output } = await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', openMetricsFile, blocksDir]);
  if (code !== 0) throw new Error(`promtool backfill of ${openMetricsFile} failed (exit ${code}):\n${output.slice(-2000)}`);
}

export interface PreparedData {
  /** Cache directory holding `blocks/<shard>/` and `blocks/global/`. */
  dir: string;
  blocks: Record<string, string>;
  globalBlocks: string;
  stats: Record<string, DatasetStats>;
  /** Whether this call generated the data (false: cache hit). */
  generated: boolean;
}

function cacheKey(shards: readonly string[], opts: GenerateOptions): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ shards, seed: opts.seed ?? DEFAULT_SEED, format: 1 }));
  for (const f of GENERATOR_INPUTS) h.update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/**
 * Generated + backfilled blocks for `shards`, from the cache when possible. Several test workers may
 * ask at once: one generates under a lock directory, the others wait for the finished directory,
 * which appears atomically (rename).
 */
export async function prepareData(shards: readonly string[] = DEFAULT_SHARDS, opts: GenerateOptions = {}): Promise<PreparedData> {
  return prepareBlocks(cacheKey(shards, opts), shards, (dir) => writeOpenMetricsFiles(dir, shards, opts));
}

/**
 * Blocks backfilled from the OpenMetrics files that `write` produces (one per shard, one global),
 * cached under `key` (which must change whenever the data would): prepareData's cache for any data.
 * A shard without samples gets an empty TSDB directory (promtool refuses empty input).
 */
export async function prepareBlocks(key: string, shards: readonly string[], write: (dir: string) => Promise<WrittenDatasets>): Promise<PreparedData> {
  const dir = path.join(CACHE_ROOT, key);
  const lock = `${dir}.lock`;
  const load = async (generated: boolean): Promise<PreparedData> => ({
    dir,
    blocks: Object.fromEntries(shards.map((s) => [s, path.join(dir, 'blocks', s)])),
    globalBlocks: path.join(dir, 'blocks', 'global'),
    stats: JSON.parse(await readFile(path.join(dir, 'stats.json'), 'utf8')) as Record<string, DatasetStats>,
    generated,
  });
  const exists = (p: string) => stat(p).then(() => true, () => false);

  await mkdir(CACHE_ROOT, { recursive: true });
  for (;;) {
    if (await exists(path.join(dir, 'stats.json'))) {
      await utimes(dir, new Date(), new Date()).catch(() => {}); // mark as recently used for pruneCache
      return load(false);
    }
    try {
      await mkdir(lock);
      break;
    } catch {
      // Someone else is generating; take the lock over if they seem to have died (cold generation takes ~10 s).
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 180_000) await rm(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    if (await exists(path.join(dir, 'stats.json'))) return load(false);
    const tmp = await mkdtemp(`${dir}.tmp-`);
    const written = await write(path.join(tmp, 'om'));
    const fill = (file: string, name: string) => (written.stats[name]?.samples === 0
      ? mkdir(path.join(tmp, 'blocks', name), { recursive: true })
      : backfill(file, path.join(tmp, 'blocks', name)));
    await Promise.all([
      ...shards.map((s) => fill(written.shardFiles[s]!, s)),
      fill(written.globalFile, 'global'),
    ]);
    await rm(path.join(tmp, 'om'), { recursive: true, force: true }); // ~400 MB of text, no longer needed
    await writeFile(path.join(tmp, 'stats.json'), JSON.stringify(written.stats, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    await pruneCache();
    return load(true);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

// --- servers -----------------------------------------------------------------------------------------

export interface PrometheusServer {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** TSDB directory (Prometheus writes into it: pass a per-run copy, never the cache). */
  dataDir: string;
  /** Where the config and log go; defaults to dataDir's parent. */
  workDir?: string;
  /**
   * Instant query that must return data before the server counts as ready; null: /-/ready is enough
   * (Prometheus answers it only once its TSDB, blocks included, is open), for servers without data.
   */
  readyQuery?: string | null;
  readyTime?: number;
  timeoutMs?: number;
  /** More command-line flags (e.g. `--web.enable-remote-write-receiver`, `--query.max-samples=1000`). */
  extraArgs?: readonly string[];
  /** `global.external_labels` of the server's configuration (an HA pair's replica label). */
  externalLabels?: Readonly<Record<string, string>>;
  /** `host:port` targets scraped every second (job "targets"), for what only scrapes bring: metadata. */
  scrapeTargets?: readonly string[];
  /** Rule files evaluated every second. */
  ruleFiles?: readonly string[];
}

/**
 * Whether the server on `url` is the one using `dataDir`: if our Prometheus lost the race for the port,
 * another server (say, another test worker's) may be answering there.
 */
async function servesDir(url: string, dataDir: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v1/status/flags`);
  const body = (await res.json()) as { data?: Record<string, string> };
  return body.data?.['storage.tsdb.path'] === dataDir;
}

async function startOnce(o: StartPrometheusOptions, port: number, name: string): Promise<PrometheusServer> {
  const workDir = o.workDir ?? path.dirname(o.dataDir);
  const configFile = path.join(workDir, `${name}.yml`);
  const logFile = path.join(workDir, `${name}.log`);
  // No alerting or remote write, scrapes only of the given targets: the server reaches out nowhere else.
  const external = Object.entries(o.externalLabels ?? {}).map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`).join('');
  const targets = o.scrapeTargets ?? [];
  const scrapes = targets.length === 0 ? '[]' : `\n  - job_name: targets\n    scrape_interval: 1s\n    static_configs: [{ targets: ${JSON.stringify(targets)} }]`;
  const rules = o.ruleFiles === undefined ? '' : `\n  evaluation_interval: 1s\nrule_files: ${JSON.stringify(o.ruleFiles)}`;
  await writeFile(configFile, `global:\n  scrape_interval: 15s${external === '' ? '' : `\n  external_labels:${external}`}${rules}\nscrape_configs: ${scrapes}\n`);
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${o.dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // Retention is measured from the newest block; keep everything regardless of how old the data looks.
    '--storage.tsdb.retention.time=100y',
    '--log.level=warn',
    ...(o.extraArgs ?? []),
  ];
  const proc = await startProcess(PROMETHEUS, args, { logFile });
  const stop = () => proc.stop();

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  const query = o.readyQuery === undefined ? 'demo_num_cpus' : o.readyQuery;
  while (Date.now() < deadline && !proc.hasExited()) {
    try {
      const ready = await fetch(`${url}/-/ready`);
      if (ready.status === 200 && (query === null || hasData(await queryInstant(url, query, o.readyTime ?? EVAL_TIME))) && (await servesDir(url, o.dataDir))) {
        return { url, port, dataDir: o.dataDir, logFile, stop };
      }
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  await stop();
  const log = proc.log();
  throw Object.assign(new Error(`Prometheus ${name} did not become ready on ${url}:\n${log}`), { log });
}

/** Starts Prometheus on a free loopback port (retrying if the port is taken in between). */
export async function startPrometheus(o: StartPrometheusOptions, name = path.basename(o.dataDir)): Promise<PrometheusServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o, await freePort(), name);
    } catch (err) {
      const log = (err as { log?: string }).log ?? '';
      if (attempt >= 3 || !/address already in use/.test(log)) throw err;
    }
  }
}

// --- the whole setup ---------------------------------------------------------------------------------

export interface Cluster {
  /** Shard name → base URL of its collector Prometheus (data without the shard label). */
  shards: Record<string, string>;
  /** The oracle: one Prometheus with every shard's data and `cluster="<shard>"`. */
  globalUrl: string;
  /** This run's working directory (data copies, configs, logs). */
  dataDir: string;
  shardLabel: string;
  stats: Record<string, DatasetStats>;
  /** Milliseconds spent preparing data (0-ish on a cache hit) and starting the servers. */
  timings: { prepareMs: number; startMs: number; generated: boolean };
  stop(): Promise<void>;
}

const RUN_DIR_PREFIX = 'prome-route-e2e-';

/** Removes run directories left behind by test processes that were killed (SIGKILL skips cleanup). */
async function pruneRunDirs(): Promise<void> {
  const tmp = os.tmpdir();
  const entries = (await readdir(tmp).catch(() => [] as string[])).filter((e) => e.startsWith(RUN_DIR_PREFIX));
  await Promise.all(entries.map(async (e) => {
    const dir = path.join(tmp, e);
    const pid = Number(await readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => ''));
    if (!pid) return; // being created right now, or not ours
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') await rm(dir, { recursive: true, force: true });
    }
  }));
}

export interface StartClusterOptions extends GenerateOptions {
  shards?: readonly string[];
  /** Blocks to serve instead of the generated data set (see prepareBlocks). */
  data?: PreparedData;
  /** Readiness query of every server (see StartPrometheusOptions); defaults to the generated data's. */
  readyQuery?: string | null;
  readyTime?: number;
  /** More command-line flags for every server. */
  extraArgs?: readonly string[];
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const shards = opts.shards ?? DEFAULT_SHARDS;
  const t0 = Date.now();
  const data = opts.data ?? await prepareData(shards, opts);
  const t1 = Date.now();

  await pruneRunDirs();
  const runDir = await mkdtemp(path.join(os.tmpdir(), RUN_DIR_PREFIX));
  runDirs.add(runDir);
  await writeFile(path.join(runDir, 'owner.pid'), String(process.pid));
  const servers: PrometheusServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(runDir, { recursive: true, force: true });
    runDirs.delete(runDir);
  };
  try {
    const start = async (name: string, blocks: string) => {
      const dataDir = path.join(runDir, name, 'data');
      // A private copy: Prometheus writes its WAL, lock and compactions into the data directory.
      await cp(blocks, dataDir, { recursive: true });
      const server = await startPrometheus({ dataDir, workDir: path.join(runDir, name), readyQuery: opts.readyQuery, readyTime: opts.readyTime, extraArgs: opts.extraArgs }, name);
      servers.push(server);
      return server;
    };
    const [global, ...perShard] = await Promise.all([
      start('global', data.globalBlocks),
      ...shards.map((s) => start(`shard-${s}`, data.blocks[s]!)),
    ]);
    return {
      shards: Object.fromEntries(shards.map((s, i) => [s, perShard[i]!.url])),
      globalUrl: global!.url,
      dataDir: runDir,
      shardLabel: SHARD_LABEL,
      stats: data.stats,
      timings: { prepareMs: t1 - t0, startMs: Date.now() - t1, generated: data.generated },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Writes the router's shard map: `{"shardLabel":"cluster","shards":{"a":"http://127.0.0.1:PORT",...}}`. */
export async function writeShardMap(file: string, shards: Record<string, string>, shardLabel = SHARD_LABEL): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ shardLabel, shards }, null, 2)}\n`);
}

/**
 * Removes cached datasets not used for `maxAgeMs` (they pile up while the generator is being edited).
 * Lock and temporary directories of generations in progress are left alone.
 */
export async function pruneCache(maxAgeMs = 24 * 3600_000): Promise<void> {
  const entries = await readdir(CACHE_ROOT).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => !e.includes('.')).map(async (e) => {
    const dir = path.join(CACHE_ROOT, e);
    const { mtimeMs } = await stat(dir);
    if (Date.now() - mtimeMs > maxAgeMs) await rm(dir, { recursive: true, force: true });
  }));
}
