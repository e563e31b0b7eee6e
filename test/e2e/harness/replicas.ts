// Replicas of one shard for the tests of "replicas": "merge": the shard's generated series as each
// replica of an HA pair would hold them (a hole where it was down, scrapes a few seconds later than
// the other's), backfilled with promtool and cached like the shards' own data.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { shardSeries, SHARD_LABEL, type DatasetStats, type WrittenDatasets } from './generate.ts';
import { prepareBlocks, startPrometheus, type PrometheusServer, type StartPrometheusOptions } from './prometheus.ts';
import { SCRAPE_INTERVAL_S, START_S, type Series } from './series.ts';

/** A series as stored: explicit (ms, value) samples, ascending. */
export interface StoredSeries {
  readonly family: string;
  readonly type: Series['type'];
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly samples: readonly (readonly [ms: number, value: number])[];
}

/** A generated series' samples, its scrapes `shiftMs` later. */
export function stored(s: Series, shiftMs = 0): StoredSeries {
  const samples: [number, number][] = [];
  s.values.forEach((v, i) => {
    if (v !== undefined) samples.push([(START_S + i * SCRAPE_INTERVAL_S) * 1000 + s.phaseMs + shiftMs, v]);
  });
  return { family: s.family, type: s.type, name: s.name, labels: s.labels, samples };
}

/** The series without the samples in [from, to) (epoch ms): a replica that was down then. */
export function withHole(s: StoredSeries, from: number, to: number): StoredSeries {
  return { ...s, samples: s.samples.filter(([t]) => t < from || t >= to) };
}

/** OpenMetrics text for promtool: families contiguous under their `# TYPE` line, `extra` labels added. */
function openMetrics(series: readonly StoredSeries[], extra: Record<string, string>, stats: DatasetStats): string {
  const families = new Map<string, StoredSeries[]>();
  for (const s of series) families.set(s.family, [...(families.get(s.family) ?? []), s]);
  const out: string[] = [];
  for (const [family, list] of families) {
    out.push(`# TYPE ${family} ${list[0]!.type}\n`);
    for (const s of list) {
      const labels = { ...s.labels, ...extra };
      const body = Object.keys(labels).sort().map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
      stats.series++;
      for (const [t, v] of s.samples) {
        out.push(`${s.name}{${body}} ${v} ${t / 1000}\n`);
        stats.samples++;
      }
    }
  }
  out.push('# EOF\n');
  return out.join('');
}

/**
 * Blocks for each named data set (e.g. replica1, replica2, reference), cached under a key of the
 * name, the generator's inputs and `version` (change it when `build` changes). A data set listed in
 * `labelled` is written with the shard label `cluster="<shard>"` (a reference for the oracle's side).
 */
export async function prepareReplicaBlocks(
  version: string, shard: string, build: (series: Series[]) => Record<string, readonly StoredSeries[]>, labelled: readonly string[] = [],
): Promise<Record<string, string>> {
  const sets = build(shardSeries(shard));
  const names = Object.keys(sets);
  const hash = createHash('sha256').update(JSON.stringify({ version, shard, names, labelled }));
  for (const f of ['series.ts', 'generate.ts', 'dashboard-metrics.ts', 'demo-metrics.ts', 'replicas.ts']) hash.update(readFileSync(path.join(import.meta.dirname, f)));
  const key = `replicas-${hash.digest('hex').slice(0, 16)}`;
  const data = await prepareBlocks(key, names, async (dir): Promise<WrittenDatasets> => {
    await mkdir(dir, { recursive: true });
    const written: WrittenDatasets = { shardFiles: {}, globalFile: '', stats: { global: { series: 0, samples: 0 } } };
    for (const name of names) {
      const stats = { series: 0, samples: 0 };
      const file = path.join(dir, `${name}.om`);
      await writeFile(file, openMetrics(sets[name]!, labelled.includes(name) ? { [SHARD_LABEL]: shard } : {}, stats));
      written.shardFiles[name] = file;
      written.stats[name] = stats;
    }
    return written;
  });
  return data.blocks;
}

/** A Prometheus serving a private copy of `blocks` under `runDir/name`, ready once its TSDB is open. */
export async function serveBlocks(
  blocks: string, runDir: string, name: string, options: Pick<StartPrometheusOptions, 'externalLabels' | 'extraArgs'> = {},
): Promise<PrometheusServer> {
  const dataDir = path.join(runDir, name, 'data');
  await cp(blocks, dataDir, { recursive: true });
  return startPrometheus({ dataDir, workDir: path.join(runDir, name), readyQuery: null, ...options }, name);
}

const MINUTE = 60_000;
const START_MS = START_S * 1000;

/**
 * The HA pair of test/e2e/replicas.test.ts and bench/replicas.ts: replica 1 was down from minute 60
 * to 90, replica 2 from 92 to 122 (the data spans 120 minutes); together they hold everything.
 */
export const HOLES = {
  version: 'holes-1',
  replica1: [START_MS + 60 * MINUTE, START_MS + 90 * MINUTE] as const,
  replica2: [START_MS + 92 * MINUTE, START_MS + 122 * MINUTE] as const,
  build: (series: Series[]): Record<string, StoredSeries[]> => ({
    replica1: series.map((s) => withHole(stored(s), ...HOLES.replica1)),
    replica2: series.map((s) => withHole(stored(s), ...HOLES.replica2)),
  }),
};
