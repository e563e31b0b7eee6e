// Deterministic synthetic data for the end-to-end tests, as OpenMetrics text for
// `promtool tsdb create-blocks-from openmetrics`. A shard's data has no `cluster` label (collectors
// don't add it); the global (oracle) data is the union of all shards with `cluster="<shard>"` added.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SHARD_LABEL, dashboardSeries } from './dashboard-metrics.ts';
import { demoSeries } from './demo-metrics.ts';
import { POINTS, SCRAPE_INTERVAL_S, START_S } from './series.ts';
import type { Series } from './series.ts';

export {
  DURATION_S, END_S, EVAL_TIME, RANGE, RANGE_UNALIGNED, SCRAPE_INTERVAL_S, START_S,
} from './series.ts';
export { SHARD_LABEL } from './dashboard-metrics.ts';

export const DEFAULT_SHARDS = ['a', 'b', 'c'] as const;
export const DEFAULT_SEED = 1;

export interface GenerateOptions {
  /** PRNG seed; change it to get different (but still deterministic) values. */
  seed?: number;
}

/** All series of one shard, as its collector stores them (no shard label). */
export function shardSeries(shard: string, opts: GenerateOptions = {}): Series[] {
  const seed = opts.seed ?? DEFAULT_SEED;
  return [...demoSeries(shard, seed), ...dashboardSeries(shard, seed)];
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesPrefix(s: Series, extra: Record<string, string>): string {
  const labels = { ...s.labels, ...extra };
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`)
    .join(',');
  return `${s.name}{${body}} `;
}

/** Sample lines of one series; timestamps in seconds (exact: phases are multiples of 125 ms). */
function seriesLines(s: Series, extra: Record<string, string>): string {
  const prefix = seriesPrefix(s, extra);
  const lines: string[] = [];
  for (let i = 0; i < POINTS; i++) {
    const v = s.values[i];
    if (v === undefined) continue;
    const tsMs = (START_S + i * SCRAPE_INTERVAL_S) * 1000 + s.phaseMs;
    lines.push(`${prefix}${v} ${tsMs / 1000}\n`);
  }
  return lines.join('');
}

export interface DatasetStats {
  series: number;
  samples: number;
}

/**
 * OpenMetrics text for labelled groups of series, produced lazily (the global file is ~200 MB):
 * `groups` pairs extra labels (e.g. `{cluster: "a"}`) with series. Families are written contiguously,
 * as OpenMetrics requires, each under its `# TYPE` line; `stats` is filled in while iterating.
 */
export function* openMetricsChunks(groups: [extra: Record<string, string>, series: Series[]][], stats: DatasetStats): Generator<string> {
  const families = new Map<string, { type: string; parts: [Record<string, string>, Series][] }>();
  for (const [extra, list] of groups) {
    for (const s of list) {
      let f = families.get(s.family);
      if (!f) families.set(s.family, (f = { type: s.type, parts: [] }));
      else if (f.type !== s.type) throw new Error(`family ${s.family} has types ${f.type} and ${s.type}`);
      f.parts.push([extra, s]);
    }
  }
  for (const [name, f] of families) {
    yield `# TYPE ${name} ${f.type}\n`;
    for (const [extra, s] of f.parts) {
      stats.series++;
      stats.samples += s.values.reduce((n: number, v) => (v === undefined ? n : n + 1), 0);
      yield seriesLines(s, extra);
    }
  }
  yield '# EOF\n';
}

/** OpenMetrics text of one shard, as its collector stores it (no shard label). */
export function generateShardOpenMetrics(shard: string, opts: GenerateOptions = {}): string {
  return [...openMetricsChunks([[{}, shardSeries(shard, opts)]], { series: 0, samples: 0 })].join('');
}

/** OpenMetrics text of the global (oracle) data: every shard's series plus `cluster="<shard>"`. */
export function generateGlobalOpenMetrics(shards: readonly string[], opts: GenerateOptions = {}): string {
  const groups = shards.map((shard) => [{ [SHARD_LABEL]: shard }, shardSeries(shard, opts)] as [Record<string, string>, Series[]]);
  return [...openMetricsChunks(groups, { series: 0, samples: 0 })].join('');
}

export interface WrittenDatasets {
  /** OpenMetrics file per shard. */
  shardFiles: Record<string, string>;
  globalFile: string;
  /** Per shard name, plus `global`. */
  stats: Record<string, DatasetStats>;
}

/** Writes `<dir>/<shard>.om` for every shard and `<dir>/global.om`, streaming the text. */
export async function writeOpenMetricsFiles(dir: string, shards: readonly string[], opts: GenerateOptions = {}): Promise<WrittenDatasets> {
  await mkdir(dir, { recursive: true });
  const perShard = shards.map((s) => [s, shardSeries(s, opts)] as const);
  const result: WrittenDatasets = { shardFiles: {}, globalFile: path.join(dir, 'global.om'), stats: {} };
  for (const [shard, series] of perShard) {
    const stats = { series: 0, samples: 0 };
    const file = path.join(dir, `${shard}.om`);
    await writeFile(file, openMetricsChunks([[{}, series]], stats));
    result.shardFiles[shard] = file;
    result.stats[shard] = stats;
  }
  const stats = { series: 0, samples: 0 };
  await writeFile(result.globalFile, openMetricsChunks(perShard.map(([shard, series]) => [{ [SHARD_LABEL]: shard }, series]), stats));
  result.stats.global = stats;
  return result;
}
