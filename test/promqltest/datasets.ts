// The scripts' data as the end-to-end harness serves it: every series on one of three collectors
// (without the shard label) and all of them on the global oracle (with it), backfilled with promtool.
// Epochs whose queries cannot see each other's series share one data set, so that few sets of
// Prometheus servers are started for the whole corpus.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { matches } from '../../lib/promql/matchers.ts';
import { parsePromQL } from '../../lib/promql/parse.ts';
import { vectorSelectors, type VectorSelector } from '../../lib/promql/ast.ts';
import type { DatasetStats, WrittenDatasets } from '../e2e/harness/generate.ts';
import { prepareBlocks, type PreparedData } from '../e2e/harness/prometheus.ts';
import { hash32 } from '../e2e/harness/series.ts';
import type { DataEpoch, StoredSeries } from './cases.ts';
import { labelKey, type Labels } from './script.ts';

export const SHARDS = ['a', 'b', 'c'] as const;
export const SHARD_LABEL = 'cluster';

/**
 * The shard a series lives on: a hash of its labels without the metric name and `le`, as a collector
 * holds whole targets. Series that differ only in their name (`a{x="1"}` and `b{x="1"}`) or bucket
 * stay together, so one-to-one matching on all labels, name-dropping collisions and each classic
 * histogram behave as in the script, while the series of one metric spread over the shards.
 */
export function shardOf(labels: Labels): string {
  const { __name__: _name, le: _le, ...rest } = labels;
  return SHARDS[hash32(labelKey(rest)) % SHARDS.length]!;
}

/**
 * Whether the series hold a staleness marker, which OpenMetrics (floats only) cannot carry: such data
 * goes to the servers by remote write instead (remote-write.ts).
 */
export function hasStaleness(series: readonly StoredSeries[]): boolean {
  return series.some((s) => s.samples.some((x) => x.value === 'stale'));
}

// --- which queries can see which series --------------------------------------------------------------

/**
 * The vector selectors of a query, or 'all' (it is taken to see every series) when the router's
 * grammar does not parse it (`holt_winters(...)`, `2.`): its error recovery may lose selectors.
 */
export function selectorsOf(expr: string): VectorSelector[] | 'all' {
  try {
    return vectorSelectors(parsePromQL(expr));
  } catch {
    return 'all';
  }
}

function selects(selector: VectorSelector, labels: Labels): boolean {
  if (selector.metricName !== null && labels.__name__ !== selector.metricName) return false;
  return selector.matchers.every((m) => matches(m, labels[m.name] ?? ''));
}

/** Whether any query of `epoch` could select one of `series`. */
function sees(epoch: DataEpoch, series: readonly StoredSeries[]): boolean {
  if (series.length === 0) return false;
  return epoch.evals.some((e) => {
    const selectors = selectorsOf(e.expr);
    return selectors === 'all' || selectors.some((sel) => series.some((s) => selects(sel, s.labels)));
  });
}

export interface DataSet {
  /** Index in the grouping, for names and logs. */
  index: number;
  epochs: DataEpoch[];
  series: StoredSeries[];
}

/**
 * Groups epochs (in order, first fit) so that no query of an epoch can select a series of another
 * epoch in its group, and no label set is loaded twice: each group then answers every query exactly
 * as the epoch's own data would.
 */
export function groupEpochs(epochs: readonly DataEpoch[]): DataSet[] {
  const sets: DataSet[] = [];
  for (const epoch of epochs) {
    const keys = new Set(epoch.series.map((s) => labelKey(s.labels)));
    const fits = (set: DataSet) => !set.series.some((s) => keys.has(labelKey(s.labels)))
      && !sees(epoch, set.series)
      && !set.epochs.some((other) => sees(other, epoch.series));
    let set = sets.find(fits);
    if (!set) sets.push((set = { index: sets.length, epochs: [], series: [] }));
    set.epochs.push(epoch);
    set.series.push(...epoch.series);
  }
  return sets;
}

// --- OpenMetrics for promtool ------------------------------------------------------------------------

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * A millisecond timestamp as OpenMetrics seconds that promtool reads back exactly: it computes
 * int64(seconds * 1000), which truncates 1.001 s to 1000 ms; a trailing digit keeps it above.
 */
export function formatTimestamp(ms: number): string {
  const seconds = ms / 1000;
  if (Math.trunc(seconds * 1000) === ms) return String(seconds);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}0001`;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** OpenMetrics text of `series`, untyped, grouped by metric name; counts into `stats`. */
export function openMetricsText(series: readonly StoredSeries[], stats: DatasetStats): string {
  const lines: string[] = [];
  const sorted = [...series].sort((a, b) => (a.labels.__name__ ?? '').localeCompare(b.labels.__name__ ?? ''));
  for (const s of sorted) {
    const { __name__: name, ...labels } = s.labels;
    if (!name) throw new Error(`series ${labelKey(s.labels)} has no metric name: OpenMetrics needs one`);
    const body = Object.keys(labels).sort().map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(',');
    stats.series++;
    for (const { t, value } of s.samples) {
      if (typeof value !== 'number') throw new Error(`series ${labelKey(s.labels)}: ${value === 'stale' ? 'a staleness marker' : 'a histogram'} cannot be backfilled`);
      lines.push(`${name}{${body}} ${formatValue(value)} ${formatTimestamp(t)}\n`);
      stats.samples++;
    }
  }
  return `${lines.join('')}# EOF\n`;
}

/** Bump when the text written for the same series changes. */
const FORMAT = 1;

/** The data set's series as each server holds them: per shard without the shard label, and global. */
export function splitSeries(series: readonly StoredSeries[]): Record<string, StoredSeries[]> {
  const out: Record<string, StoredSeries[]> = Object.fromEntries(SHARDS.map((s) => [s, series.filter((x) => shardOf(x.labels) === s)]));
  out.global = series.map((s) => ({ ...s, labels: { ...s.labels, [SHARD_LABEL]: shardOf(s.labels) } }));
  return out;
}

/** The data set's blocks, backfilled once and cached like the generated end-to-end data. */
export async function prepareDataSet(set: DataSet): Promise<PreparedData> {
  const texts = Object.fromEntries(Object.entries(splitSeries(set.series)).map(([name, series]) => {
    const stats = { series: 0, samples: 0 };
    return [name, { text: openMetricsText(series, stats), stats }];
  }));
  const key = createHash('sha256').update(JSON.stringify({ FORMAT, texts: Object.entries(texts).map(([k, v]) => [k, v.text]) })).digest('hex').slice(0, 16);
  const write = async (dir: string): Promise<WrittenDatasets> => {
    await mkdir(dir, { recursive: true });
    const file = (name: string) => path.join(dir, `${name}.om`);
    await Promise.all(Object.entries(texts).map(([name, t]) => writeFile(file(name), t.text)));
    return {
      shardFiles: Object.fromEntries(SHARDS.map((s) => [s, file(s)])),
      globalFile: file('global'),
      stats: Object.fromEntries(Object.entries(texts).map(([name, t]) => [name, t.stats])),
    };
  };
  return prepareBlocks(`promqltest-${key}`, SHARDS, write);
}
