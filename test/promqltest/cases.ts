// From parsed scripts to what a test runs: the storage each eval sees (series with timestamped
// samples, staleness markers included) and the eval itself. This is the building block for running
// the scripts against any engine: in-process without Prometheus, or through real servers.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR } from '../e2e/harness/corpus.ts';
import {
  expectsFailure, expectsOrder, labelKey, parseScript,
  type Command, type EvalCommand, type EvalQuery, type ExpectedResult, type Labels, type LoadCommand, type Point,
} from './script.ts';

export const PROMQLTEST_DIR = path.join(CORPUS_DIR, 'promqltest');
export type Release = 'v2.42.0' | 'v3.14.0';

export interface Sample {
  /** Milliseconds since the epoch (the scripts' time 0 is 1970-01-01T00:00:00Z). */
  t: number;
  value: Point;
  /** Start timestamp in ms (3.x `@st` lines), if the script gives one. */
  st?: number;
}

export interface StoredSeries {
  labels: Labels;
  /** In time order, one per timestamp. */
  samples: Sample[];
}

/** The storage between two changes: a `clear`, or a `load` after an eval (loads are additive). */
export interface DataEpoch {
  file: string;
  /** 1-based line of the first command of the epoch's data (its first load, or the file start). */
  line: number;
  loads: LoadCommand[];
  series: StoredSeries[];
  evals: EvalCommand[];
}

export interface EvalCase {
  file: string;
  line: number;
  expr: string;
  query: EvalQuery;
  /** Upstream's `eval_fail` / `expect fail`. */
  fail: boolean;
  /** Upstream's `eval_ordered` / `expect ordered`. */
  ordered: boolean;
  expected: ExpectedResult;
  /** Everything loaded since the last `clear` and before this eval. */
  series: StoredSeries[];
  /** The load commands that series come from. */
  loads: LoadCommand[];
  command: EvalCommand;
}

/** Series of one or more loads, merged per label set (a later load adds samples, never replaces). */
export function storedSeries(loads: readonly LoadCommand[]): StoredSeries[] {
  const byKey = new Map<string, StoredSeries>();
  for (const load of loads) {
    for (const desc of load.series) {
      const key = labelKey(desc.labels);
      let s = byKey.get(key);
      if (!s) byKey.set(key, (s = { labels: desc.labels, samples: [] }));
      desc.values.forEach((value, i) => {
        if (value === undefined) return;
        const t = i * load.intervalMs;
        const offset = desc.startOffsets?.[i];
        s.samples.push(offset === undefined ? { t, value } : { t, value, st: t + offset });
      });
    }
  }
  for (const s of byKey.values()) {
    s.samples.sort((a, b) => a.t - b.t);
    // A second sample at the same time is refused by the TSDB (or a no-op if equal): keep the first.
    s.samples = s.samples.filter((x, i, all) => i === 0 || all[i - 1]!.t !== x.t);
  }
  return [...byKey.values()];
}

/** The file's commands cut into epochs of fixed data, each with the evals that run on it. */
export function dataEpochs(file: string, commands: readonly Command[]): DataEpoch[] {
  const epochs: DataEpoch[] = [];
  let loads: LoadCommand[] = [];
  let current: DataEpoch | null = null;
  for (const cmd of commands) {
    if (cmd.kind === 'clear') {
      loads = [];
      current = null;
    } else if (cmd.kind === 'load') {
      loads = [...loads, cmd];
      current = null; // the evals after this load see more data than those before it
    } else {
      if (current === null) {
        current = { file, line: loads[0]?.line ?? cmd.line, loads, series: storedSeries(loads), evals: [] };
        epochs.push(current);
      }
      current.evals.push(cmd);
    }
  }
  return epochs;
}

/** Every eval of a script with the data it runs on. */
export function evalCases(file: string, commands: readonly Command[]): EvalCase[] {
  return dataEpochs(file, commands).flatMap((epoch) => epoch.evals.map((e) => ({
    file,
    line: e.line,
    expr: e.expr,
    query: e.query,
    fail: expectsFailure(e),
    ordered: expectsOrder(e),
    expected: e.expected,
    series: epoch.series,
    loads: epoch.loads,
    command: e,
  })));
}

/** The language's constructs an eval uses (beyond an instant eval of float data). */
export type Construct =
  | 'eval range' | 'expected failure' | 'expected order' | 'failure message' | 'annotations (expect warn/info)'
  | 'expect range vector' | 'expect string' | 'native histograms' | 'load_with_nhcb' | 'start timestamps (@st)' | 'staleness markers';

/** Constructs the end-to-end runner of the v2.42.0 scripts runs (the others are listed, not run). */
export const END_TO_END_CONSTRUCTS: ReadonlySet<Construct> = new Set(['expected failure', 'expected order', 'staleness markers']);

export function constructsOf(c: EvalCase): Construct[] {
  const e = c.command;
  const points = [...c.series.flatMap((s) => s.samples.map((x) => x.value)), ...(c.expected.kind === 'series' ? c.expected.series.flatMap((s) => s.values) : [])];
  const found: [Construct, boolean][] = [
    ['eval range', c.query.type === 'range'],
    ['expected failure', c.fail],
    ['expected order', c.ordered],
    ['failure message', e.failMatch !== undefined || e.expectations.some((x) => x.type === 'fail' && x.match !== undefined)],
    ['annotations (expect warn/info)', e.modifier === 'warn' || e.modifier === 'info' || e.expectations.some((x) => x.type !== 'fail' && x.type !== 'ordered')],
    ['expect range vector', e.rangeVector !== undefined],
    ['expect string', c.expected.kind === 'string'],
    ['native histograms', points.some((p) => typeof p === 'object')],
    ['load_with_nhcb', c.loads.some((l) => l.withNhcb)],
    ['start timestamps (@st)', c.series.some((s) => s.samples.some((x) => x.st !== undefined))],
    ['staleness markers', points.includes('stale')],
  ];
  return found.filter(([, used]) => used).map(([name]) => name);
}

export interface ScriptFile {
  release: Release;
  file: string;
  text: string;
  commands: Command[];
}

/** The corpus' scripts of one release, parsed (throws ScriptError on a line the parser refuses). */
export function loadScripts(release: Release): ScriptFile[] {
  const dir = path.join(PROMQLTEST_DIR, release);
  return readdirSync(dir).filter((f) => f.endsWith('.test')).sort().map((file) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    try {
      return { release, file, text, commands: parseScript(text) };
    } catch (err) {
      throw new Error(`${release}/${file}: ${(err as Error).message}`);
    }
  });
}

/** Every eval of a release's scripts, with its data: the input of an in-process engine test. */
export function releaseCases(release: Release): EvalCase[] {
  return loadScripts(release).flatMap((s) => evalCases(s.file, s.commands));
}
