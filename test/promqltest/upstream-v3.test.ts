// Prometheus v3.14.0's test scripts: read completely (every line belongs to a command or is blank or
// a comment), turned into per-eval cases (data, query, expected result), and every eval whose
// constructs the engine can be judged on run through the router's engine under 3.x semantics, in
// process (no Prometheus 3 here: the engine is what is tested), against the script's expected values.
import type { ApiAnswer } from '../e2e/compare.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { constructsOf, END_TO_END_CONSTRUCTS, evalCases, loadScripts, type Construct, type EvalCase } from './cases.ts';
import { evaluateWithEngine } from './engine-v3.ts';
import { almostEqual, apiValue, diffFromScript } from './expected.ts';
import { KNOWN_DIFFERENCES_V3 } from './known-differences-v3.ts';
import { SHARD_LABEL } from './datasets.ts';
import { labelKey, type Labels } from './script.ts';

const scripts = loadScripts('v3.14.0');
const cases = scripts.flatMap((s) => evalCases(s.file, s.commands));

afterAll(() => {
  const counts = new Map<Construct, number>();
  for (const c of cases) for (const k of constructsOf(c)) counts.set(k, (counts.get(k) ?? 0) + 1);
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${String(n).padStart(5)} ${k}${END_TO_END_CONSTRUCTS.has(k) ? '' : ' (not run end to end)'}`);
  const plain = cases.filter((c) => constructsOf(c).every((k) => END_TO_END_CONSTRUCTS.has(k))).length;
  const notRun = [...engineTally.notRun].sort((a, b) => b[1] - a[1]).map(([r, n]) => `    ${String(n).padStart(5)} ${r}`);
  const known = [...engineTally.known].map(([r, n]) => `    ${String(n).padStart(5)} ${r.slice(0, 140)}`);
  console.log([
    `promqltest v3.14.0: ${scripts.length} files, ${cases.length} evals parsed; ${plain} use only constructs the end-to-end runner runs`,
    '  evals per construct:',
    ...rows,
    `  through the engine (3.x semantics): ${engineCases.length} evals without native histograms in their expected results, start timestamps, range-vector or string results`,
    `    identical to the script: ${engineTally.identical}; known differences: ${[...engineTally.known.values()].reduce((a, b) => a + b, 0)}; not evaluated: ${engineTally.notRun.size === 0 ? 0 : [...engineTally.notRun.values()].reduce((a, b) => a + b, 0)}`,
    '  known differences:',
    ...known,
    '  not evaluated by the engine (refused across shards, or beyond the test storage):',
    ...notRun,
  ].join('\n'));
});

/** What the engine is judged on: annotations are not produced by it, so their expectations are not checked. */
const ENGINE_CONSTRUCTS: ReadonlySet<Construct> = new Set([
  'eval range', 'expected failure', 'expected order', 'failure message', 'annotations (expect warn/info)', 'staleness markers',
]);
/** Native histograms in the expected result: the engine evaluates floats only. */
const expectsHistograms = (c: EvalCase) => c.expected.kind === 'series' && c.expected.series.some((s) => s.values.some((v) => typeof v === 'object'));
/** Also evals whose data holds native histograms beside floats: the storage leaves them out (listed where that matters). */
const engineCases = cases.filter((c) => constructsOf(c).every((k) => ENGINE_CONSTRUCTS.has(k) || (k === 'native histograms' && !expectsHistograms(c))));
const knownV3 = new Map(KNOWN_DIFFERENCES_V3.flatMap((d) => d.evals.map((e) => [e, d.reason] as const)));
const engineTally = { identical: 0, known: new Map<string, number>(), notRun: new Map<string, number>() };

/** A range eval's whole matrix against the script's: every series, a point exactly at each expected step. */
function diffRange(answer: ApiAnswer, c: EvalCase): string | null {
  if (c.fail) return answer.body.status === 'error' ? null : 'the script expects an error, the answer is a success';
  if (answer.body.status !== 'success') return `error ${answer.body.errorType}: ${answer.body.error}`;
  if (c.query.type !== 'range' || c.expected.kind !== 'series') return 'not a range eval with series';
  const { startMs, stepMs } = c.query;
  const data = answer.body.data as { result: { metric: Labels; values: [number, string][] }[] };
  const got = new Map(data.result.map((s) => {
    const { [SHARD_LABEL]: _shard, ...metric } = s.metric;
    return [labelKey(metric), new Map(s.values.map(([t, v]) => [Math.round(t * 1000), apiValue(v)]))] as const;
  }));
  for (const want of c.expected.series) {
    const key = labelKey(want.labels);
    const points = got.get(key);
    if (points === undefined) return `missing ${key}`;
    got.delete(key);
    const wanted = new Map<number, number>();
    want.values.forEach((v, i) => {
      if (typeof v === 'number') wanted.set(startMs + i * stepMs, v);
    });
    if (points.size !== wanted.size) return `${key}: ${points.size} points, expected ${wanted.size}`;
    for (const [t, v] of wanted) if (!points.has(t) || !almostEqual(points.get(t)!, v)) return `${key} at ${t / 1000}s: expected ${v}, got ${points.get(t)}`;
  }
  return got.size === 0 ? null : `unexpected series ${[...got.keys()][0]}`;
}

describe('v3.14.0 evals through the engine, 3.x semantics', () => {
  it.each(engineCases)('$file:$line $expr', async (c) => {
    const outcome = await evaluateWithEngine(c);
    if (outcome.kind === 'unsupported') {
      // Refused with a 422 naming what it cannot evaluate: never answered differently.
      const reason = outcome.reason.startsWith('cannot evaluate function') ? outcome.reason.replace(/ across shards.*/, '') : outcome.reason.replace(/"[^"]*"/g, '"…"');
      engineTally.notRun.set(reason, (engineTally.notRun.get(reason) ?? 0) + 1);
      expect(knownV3.has(`${c.file}:${c.line}`), 'a listed difference must be evaluated').toBe(false);
      return;
    }
    const diff = c.query.type === 'instant' ? diffFromScript(outcome.answer, c, c.query.timeMs, c.ordered, SHARD_LABEL) : diffRange(outcome.answer, c);
    const reason = knownV3.get(`${c.file}:${c.line}`);
    if (reason === undefined) {
      expect(diff, `${c.file}:${c.line} ${c.expr}`).toBeNull();
      engineTally.identical++;
    } else {
      expect(diff, `listed as differing: ${reason}`).not.toBeNull();
      engineTally.known.set(reason, (engineTally.known.get(reason) ?? 0) + 1);
    }
  });

  it('lists only evals that exist', () => {
    const ids = new Set(engineCases.map((c) => `${c.file}:${c.line}`));
    expect([...knownV3.keys()].filter((k) => !ids.has(k))).toEqual([]);
  });
});

describe('v3.14.0 scripts', () => {
  it.each(scripts)('$file: every line is part of a command, blank or a comment', ({ text, commands }) => {
    const lines = text.split('\n');
    const covered = new Set<number>();
    for (const cmd of commands) for (let l = cmd.line; l <= cmd.endLine; l++) covered.add(l);
    const stray = lines.map((l, i) => [i + 1, l.trim()] as const).filter(([n, l]) => l !== '' && !l.startsWith('#') && !covered.has(n));
    expect(stray).toEqual([]);
    const evalLines = lines.filter((l) => /^\s*eval/.test(l)).length;
    expect(commands.filter((c) => c.kind === 'eval')).toHaveLength(evalLines);
  });

  it('gives every eval its data in time order, its query and its expected result', () => {
    expect(cases.length).toBeGreaterThan(2000);
    for (const c of cases) {
      for (const s of c.series) expect(s.samples.every((x, i) => i === 0 || s.samples[i - 1]!.t < x.t), `${c.file}:${c.line}`).toBe(true);
      if (c.query.type === 'range') expect(c.query.endMs).toBeGreaterThanOrEqual(c.query.startMs);
    }
    const rate = cases.find((c) => c.file === 'functions.test' && c.expr.startsWith('rate(') && c.series.length > 0);
    expect(rate?.series[0]?.samples.length).toBeGreaterThan(1);
  });
});
